{#- Tagged slow: the cohort grid is rebuilt from every order; nightly selectors skip it. -#}
{{ config(tags=['slow']) }}

with orders as (
    select * from {{ ref('int_orders_enriched') }}
    where is_revenue
),

first_orders as (
    select customer_id, date_trunc('month', min(order_date)) as cohort_month
    from orders
    group by customer_id
),

cohort_size as (
    select cohort_month, count(*) as cohort_customers
    from first_orders
    group by cohort_month
)

select
    first_orders.cohort_month,
    date_diff('month', first_orders.cohort_month, date_trunc('month', orders.order_date)) as months_since_first_order,
    any_value(cohort_size.cohort_customers) as cohort_customers,
    count(distinct orders.customer_id) as active_customers,
    round(sum(orders.amount), 2) as revenue
from orders
inner join first_orders on orders.customer_id = first_orders.customer_id
inner join cohort_size on first_orders.cohort_month = cohort_size.cohort_month
group by 1, 2
