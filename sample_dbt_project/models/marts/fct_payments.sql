{{ config(tags=['finance']) }}

select
    payment_id,
    order_id,
    customer_id,
    order_date,
    payment_method,
    method_label,
    amount,
    processing_fee,
    amount - processing_fee as net_amount
from {{ ref('int_payments_enriched') }}
