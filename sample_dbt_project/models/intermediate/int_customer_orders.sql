{{ config(materialized='ephemeral') }}

with orders as (
    select * from {{ ref('int_orders_enriched') }}
)

select
    customer_id,
    min(order_date) as first_order_date,
    max(order_date) as most_recent_order_date,
    count(*) as number_of_orders,
    count(*) filter (where status = 'completed') as completed_orders,
    count(*) filter (where status in ('returned', 'return_pending')) as returned_orders,
    coalesce(sum(amount) filter (where is_revenue), 0) as lifetime_value
from orders
group by customer_id
