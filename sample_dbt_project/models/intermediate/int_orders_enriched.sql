with orders as (
    select * from {{ ref('stg_orders') }}
),

order_payments as (
    select * from {{ ref('int_order_payments') }}
),

statuses as (
    select * from {{ ref('stg_order_status_labels') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    statuses.status_label,
    statuses.is_final,
    statuses.is_revenue,
    orders.amount_cents,
    orders.amount,
    coalesce(order_payments.payment_count, 0) as payment_count,
    coalesce(order_payments.total_paid_cents, 0) as total_paid_cents,
    coalesce(order_payments.total_paid, 0) as total_paid,
    coalesce(order_payments.coupon_amount, 0) as coupon_amount,
    coalesce(order_payments.total_paid_cents, 0) >= orders.amount_cents as is_fully_paid,
    orders._loaded_at
from orders
left join order_payments on orders.order_id = order_payments.order_id
left join statuses on orders.status = statuses.status
