with customers as (
    select * from {{ ref('stg_customers') }}
),

countries as (
    select * from {{ ref('stg_country_codes') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders') }}
)

select
    customers.customer_id,
    customers.first_name,
    customers.last_name,
    customers.full_name,
    customers.email,
    countries.country_code,
    countries.country_name,
    countries.region,
    customers.created_at,
    customer_orders.first_order_date,
    customer_orders.most_recent_order_date,
    coalesce(customer_orders.number_of_orders, 0) as number_of_orders,
    coalesce(customer_orders.lifetime_value, 0) as lifetime_value,
    case
        when customer_orders.customer_id is null then 'prospect'
        when customer_orders.number_of_orders = 1 then 'new'
        else 'returning'
    end as customer_segment
from customers
left join countries on customers.email_domain = countries.email_domain
left join customer_orders on customers.customer_id = customer_orders.customer_id
