{{ config(tags=['finance']) }}

with customer_orders as (
    select * from {{ ref('int_customer_orders') }}
)

select
    customer_id,
    completed_orders,
    lifetime_value,
    case when completed_orders > 0 then round(lifetime_value / completed_orders, 2) end as avg_order_value,
    case
        when lifetime_value >= 500 then 'high'
        when lifetime_value >= 200 then 'medium'
        else 'low'
    end as ltv_tier
from customer_orders
