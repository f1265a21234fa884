-- The cumulative figures of record per unit and day: the ministry's file export where it
-- exists for the day, otherwise the figures aggregated from the event-level export.
-- Rows at the levels of the campaign's unit set (provinces and the level below them);
-- commune rows of a 2020 export (the commune-level variant) feed fct_commune_installs_daily
-- only.
with

file_exports as (
    select * from {{ ref('int_install_exports_deduplicated') }}
    where level in ('province', '{{ area_level() }}')
),

from_events as (
    select * from {{ ref('int_installs_from_events') }}
),

exported_days as (
    select distinct snapshot_date from file_exports
),

final as (
    select
        snapshot_date,
        level,
        unit_code,
        installs,
        installs_with_phone,
        'file' as figures_source,
    from file_exports
    union all
    select
        from_events.snapshot_date,
        from_events.level,
        from_events.unit_code,
        from_events.installs,
        from_events.installs_with_phone,
        'events' as figures_source,
    from from_events
    where from_events.snapshot_date not in (select exported_days.snapshot_date from exported_days)
)

select * from final
