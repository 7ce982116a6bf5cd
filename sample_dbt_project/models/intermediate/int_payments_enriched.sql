{{ config(materialized='ephemeral', tags=['finance']) }}

with payments as (
    select * from {{ ref('stg_payments') }}
),

methods as (
    select * from {{ ref('stg_payment_methods') }}
),

orders as (
    select * from {{ ref('stg_orders') }}
)

select
    payments.payment_id,
    payments.order_id,
    orders.customer_id,
    orders.order_date,
    payments.payment_method,
    methods.method_label,
    methods.is_cash_equivalent,
    payments.amount_cents,
    payments.amount,
    round(payments.amount * methods.processing_fee_pct, 2) as processing_fee,
    payments._loaded_at
from payments
inner join orders on payments.order_id = orders.order_id
left join methods on payments.payment_method = methods.payment_method
