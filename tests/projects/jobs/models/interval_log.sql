{{ config(materialized='incremental') }}
-- One row per run: the data interval the run was given, as dbt vars.
select
    '{{ var("data_interval_start", "none") }}' as interval_start,
    '{{ var("data_interval_end", "none") }}' as interval_end,
    (select count(*) from {{ source('raw', 'events') }}) as events_seen
