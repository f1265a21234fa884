-- Districts and provinces on every day between the first and last export: days with no
-- export are estimated by linear interpolation and new installs are spread evenly over the
-- gap (as Our World in Data does), so a missing export never shows as a zero day.
with

exports as (
    select * from {{ ref('int_install_figures_daily') }}
),

bounds as (
    select
        min(snapshot_date) as first_day,
        max(snapshot_date) as last_day,
    from exports
),

calendar as (
    select
        cast(unnest(generate_series(bounds.first_day, bounds.last_day, interval 1 day)) as date)
            as snapshot_date,
    from bounds
),

units as (
    select distinct
        level,
        unit_code,
    from exports
),

grid as (
    select
        units.level,
        units.unit_code,
        calendar.snapshot_date,
        exports.installs,
        exports.installs_with_phone,
    from units
    cross join calendar
    left join exports
        on
            units.level = exports.level
            and units.unit_code = exports.unit_code
            and calendar.snapshot_date = exports.snapshot_date
),

neighbours as (
    select
        *,
        last_value(case when installs is not null then snapshot_date end ignore nulls) over (
            partition by level, unit_code order by snapshot_date
            rows between unbounded preceding and 1 preceding
        ) as previous_day,
        last_value(installs ignore nulls) over (
            partition by level, unit_code order by snapshot_date
            rows between unbounded preceding and 1 preceding
        ) as previous_installs,
        first_value(case when installs is not null then snapshot_date end ignore nulls) over (
            partition by level, unit_code order by snapshot_date
            rows between current row and unbounded following
        ) as next_day,
        first_value(installs ignore nulls) over (
            partition by level, unit_code order by snapshot_date
            rows between current row and unbounded following
        ) as next_installs,
    from grid
),

filled as (
    select
        level,
        unit_code,
        snapshot_date,
        installs is null as is_estimated,
        coalesce(
            installs,
            cast(round(
                previous_installs + (next_installs - previous_installs)
                * date_diff('day', previous_day, snapshot_date)
                / date_diff('day', previous_day, next_day)
            ) as bigint)
        ) as installs,
        installs_with_phone,
        case
            when previous_day is not null and next_day is not null
                then (next_installs - previous_installs) / date_diff('day', previous_day, next_day)
        end as new_installs,
    from neighbours
),

final as (
    select * from filled
    where installs is not null
)

select * from final
