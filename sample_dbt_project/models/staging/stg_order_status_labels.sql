select
    status,
    status_label,
    is_final,
    is_revenue,
    sort_order
from {{ ref('order_status_labels') }}
