with source as (
    select * from {{ source('jaffle', 'raw_customers') }}
),

renamed as (
    select
        id as customer_id,
        first_name,
        last_name,
        first_name || ' ' || last_name as full_name,
        lower(email) as email,
        split_part(lower(email), '@', 2) as email_domain,
        created_at,
        _loaded_at
    from source
)

select * from renamed
