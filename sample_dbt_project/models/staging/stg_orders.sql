with source as (
    select * from {{ source('jaffle', 'raw_orders') }}
),

renamed as (
    select
        cast(id as integer) as order_id,
        cast(customer_id as integer) as customer_id,
        order_date,
        status,
        amount_cents,
        {{ cents_to_dollars('amount_cents') }} as amount,
        _loaded_at
    from source
)

select * from renamed
