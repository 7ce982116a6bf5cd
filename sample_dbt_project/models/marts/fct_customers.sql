with customers as (
    select * from {{ ref('stg_customers') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders') }}
)

select
    customers.customer_id,
    customers.full_name,
    customers.email,
    customer_orders.first_order_date,
    customer_orders.most_recent_order_date,
    customer_orders.number_of_orders,
    customer_orders.completed_orders,
    customer_orders.lifetime_value
from customers
inner join customer_orders on customers.customer_id = customer_orders.customer_id
where customer_orders.completed_orders > 0
