{{ config(tags=['finance']) }}

select
    payment_method,
    method_label,
    is_cash_equivalent,
    processing_fee_pct
from {{ ref('payment_methods') }}
