-- Daily install and uninstall counts per district from the newest delivery of each day's
-- event-level export.
with

source as (
    select * from {{ source('raw', 'install_event_counts') }}
),

deliveries as (
    select
        event_date,
        file_id,
        source_file,
        max(arrived_at) as arrived_at,
    from source
    group by event_date, file_id, source_file
),

ranked_deliveries as (
    select
        *,
        row_number() over (
            partition by event_date order by arrived_at desc, source_file desc, file_id desc
        ) as delivery_rank,
    from deliveries
),

newest as (
    select
        source.event_date,
        source.district_code,
        source.installs,
        source.uninstalls,
        source.installs_with_phone,
        source.uninstalls_with_phone,
        source.events,
        source.source_file,
        source.file_id,
    from source
    inner join ranked_deliveries
        on
            source.event_date = ranked_deliveries.event_date
            and source.file_id = ranked_deliveries.file_id
    where
        ranked_deliveries.delivery_rank = 1
        and source.event_date <= cast('{{ var("run_date") }}' as date)
)

select * from newest
