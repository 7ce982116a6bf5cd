{{ config(tags=['x']) }} select * from {{ ref('b') }} join {{ source('src','t2') }} using (id)
