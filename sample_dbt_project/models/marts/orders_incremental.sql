{#- Incremental demo: only rows loaded after the last build are merged in by order_id. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        on_schema_change='append_new_columns'
    )
}}

select
    order_id,
    customer_id,
    order_date,
    status,
    status_label,
    amount,
    total_paid,
    is_fully_paid,
    _loaded_at
from {{ ref('int_orders_enriched') }}
{% if is_incremental() %}
where _loaded_at > (select coalesce(max(_loaded_at), '1900-01-01'::timestamp) from {{ this }})
{% endif %}
