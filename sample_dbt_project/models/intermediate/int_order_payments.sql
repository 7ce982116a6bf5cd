{{ config(tags=['finance']) }}

{%- set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] %}

with payments as (
    select * from {{ ref('stg_payments') }}
)

select
    order_id,
    count(*) as payment_count,
    sum(amount_cents) as total_paid_cents,
    {{ cents_to_dollars('sum(amount_cents)') }} as total_paid,
    {%- for method in payment_methods %}
    {{ cents_to_dollars("sum(case when payment_method = '" ~ method ~ "' then amount_cents else 0 end)") }} as {{ method }}_amount
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
from payments
group by order_id
