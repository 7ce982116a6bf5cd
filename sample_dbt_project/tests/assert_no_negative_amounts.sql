-- Money in the marts is never negative: refunds are modelled as statuses, not negative rows.
select 'fct_orders' as model, order_id as id, amount from {{ ref('fct_orders') }} where amount < 0
union all
select 'fct_payments' as model, payment_id as id, amount from {{ ref('fct_payments') }} where amount < 0
