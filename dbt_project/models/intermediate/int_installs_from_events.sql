-- Cumulative installs per district and province from the event-level export: net installs
-- (installs minus uninstalls) summed over every day with events up to each day. Events
-- without a district cannot be placed in a province and count in neither.
with

counts as (
    select * from {{ ref('int_install_event_counts_deduplicated') }}
),

districts as (
    select * from {{ ref('stg_seeds__districts') }}
),

daily as (
    select
        event_date,
        district_code,
        sum(installs - uninstalls) as net_installs,
        sum(installs_with_phone - uninstalls_with_phone) as net_installs_with_phone,
    from counts
    where district_code is not null
    group by all
),

event_days as (
    select distinct event_date from counts
),

event_districts as (
    select distinct district_code from daily
),

grid as (
    select
        event_days.event_date,
        event_districts.district_code,
    from event_days
    cross join event_districts
),

cumulative as (
    select
        grid.event_date as snapshot_date,
        grid.district_code,
        cast(sum(coalesce(daily.net_installs, 0)) over running as bigint) as installs,
        cast(sum(coalesce(daily.net_installs_with_phone, 0)) over running as bigint)
            as installs_with_phone,
    from grid
    left join daily
        on
            grid.event_date = daily.event_date
            and grid.district_code = daily.district_code
    window running as (
        partition by grid.district_code order by grid.event_date
        rows between unbounded preceding and current row
    )
),

district_rows as (
    select
        cumulative.snapshot_date,
        'district' as level,
        cumulative.district_code as unit_code,
        districts.province_code,
        cumulative.installs,
        cumulative.installs_with_phone,
    from cumulative
    inner join districts on cumulative.district_code = districts.district_code
),

province_rows as (
    select
        snapshot_date,
        'province' as level,
        province_code as unit_code,
        province_code,
        cast(sum(installs) as bigint) as installs,
        cast(sum(installs_with_phone) as bigint) as installs_with_phone,
    from district_rows
    group by all
),

final as (
    select * exclude (province_code) from district_rows
    union all by name
    select * exclude (province_code) from province_rows
)

select * from final
