{{ config(tags=['finance']) }}

with source as (
    select * from {{ source('jaffle', 'raw_payments') }}
),

renamed as (
    select
        id as payment_id,
        order_id,
        payment_method,
        amount_cents,
        {{ cents_to_dollars('amount_cents') }} as amount,
        _loaded_at
    from source
)

select * from renamed
