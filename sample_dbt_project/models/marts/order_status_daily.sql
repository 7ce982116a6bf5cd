select
    order_date,
    status,
    any_value(status_label) as status_label,
    count(*) as order_count,
    round(sum(amount), 2) as total_amount,
    count(*) filter (where not is_fully_paid) as unpaid_orders
from {{ ref('int_orders_enriched') }}
group by order_date, status
