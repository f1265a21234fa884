-- One row per unit and snapshot day, from the newest delivery of that day's export.
with

source as (
    select * from {{ source('raw', 'install_exports') }}
),

deliveries as (
    select
        snapshot_date,
        file_id,
        source_file,
        max(arrived_at) as arrived_at,
    from source
    group by snapshot_date, file_id, source_file
),

ranked_deliveries as (
    select
        *,
        row_number() over (
            partition by snapshot_date order by arrived_at desc, source_file desc, file_id desc
        ) as delivery_rank,
        count(*) over (partition by snapshot_date) as deliveries_count,
    from deliveries
),

newest as (
    select
        source.snapshot_date,
        source.level,
        source.unit_code,
        source.installs,
        source.installs_with_phone,
        source.source_file,
        source.file_id,
        source.arrived_at,
        ranked_deliveries.deliveries_count,
    from source
    inner join ranked_deliveries
        on
            source.snapshot_date = ranked_deliveries.snapshot_date
            and source.file_id = ranked_deliveries.file_id
    where
        ranked_deliveries.delivery_rank = 1
        and source.snapshot_date <= cast('{{ var("run_date") }}' as date)
)

select * from newest
