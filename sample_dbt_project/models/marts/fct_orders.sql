{#- Contract relied on by eltkit's tests: exactly order_id, customer_id, amount; completed orders only. -#}
select
    order_id,
    customer_id,
    {{ cents_to_dollars('amount_cents') }} as amount
from {{ ref('stg_orders') }}
where status = 'completed'
