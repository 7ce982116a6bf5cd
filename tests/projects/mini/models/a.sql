select * from {{ source('src','t1') }}
