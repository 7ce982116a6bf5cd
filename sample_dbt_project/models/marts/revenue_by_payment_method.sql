{{ config(tags=['finance']) }}

select
    payment_method,
    any_value(method_label) as method_label,
    count(*) as payment_count,
    {{ cents_to_dollars('sum(amount_cents)') }} as gross_amount,
    round(sum(processing_fee), 2) as processing_fees,
    round({{ cents_to_dollars('sum(amount_cents)') }} - sum(processing_fee), 2) as net_amount
from {{ ref('int_payments_enriched') }}
group by payment_method
