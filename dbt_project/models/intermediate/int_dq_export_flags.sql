-- Flags about the install export: decreasing cumulative figures, the units below a
-- province (the unit set's area level: districts in 2020, communes in 2025) adding up to
-- more than their province, too many unattributed installs, coverage over 100 %, outlier
-- increments (modified z-score or multiple of the 7-day mean), days with no export, exports
-- lacking provinces or their units (export_incomplete), and rows with more installs with a
-- phone than installs.
{%- set area = area_level() %}
{%- set areas = area ~ 's' %}
with

figures as (
    select * from {{ ref('int_install_figures_daily') }}
),

filled as (
    select * from {{ ref('int_installs_gaps_filled') }}
),

units as (
    select * from {{ ref('int_admin_units_unioned') }}
),

named as (
    select
        figures.*,
        units.name,
        units.province_code,
        units.population_total,
        units.population_15plus,
        units.population_18plus,
        units.smartphone_owners_est,
        units.parts_expected,
    from figures
    inner join units
        on
            figures.unit_code = units.unit_code
            and figures.level = units.level
),

with_previous as (
    select
        *,
        lag(installs) over by_unit as previous_installs,
        lag(snapshot_date) over by_unit as previous_day,
    from named
    window by_unit as (partition by level, unit_code order by snapshot_date)
),

decreasing as (
    select
        'decreasing_cumulative' as check_id,
        {{ dq_severity('decreasing_cumulative') }} as severity,
        unit_code,
        province_code,
        snapshot_date as day,
        cast(installs as varchar) as observed,
        '>= ' || previous_installs as expected,
        name || ': cumulative installs fell from ' || previous_installs || ' on '
        || strftime(previous_day, '%d/%m/%Y') || ' to ' || installs || ' on '
        || strftime(snapshot_date, '%d/%m/%Y') as message,
    from with_previous
    where installs < previous_installs
),

province_sums as (
    select
        provinces.snapshot_date,
        provinces.unit_code as province_code,
        provinces.name,
        provinces.installs as province_installs,
        sum(areas.installs) as area_installs,
    from named as provinces
    inner join named as areas
        on
            provinces.unit_code = areas.province_code
            and provinces.snapshot_date = areas.snapshot_date
            and areas.level = '{{ area }}'
    where provinces.level = 'province'
    group by all
),

sum_exceeds as (
    select
        'children_exceed_parent' as check_id,
        {{ dq_severity('children_exceed_parent') }} as severity,
        province_code as unit_code,
        province_code,
        snapshot_date as day,
        cast(area_installs as varchar) as observed,
        '<= ' || province_installs as expected,
        name || ': {{ areas }} add up to ' || area_installs || ' installs on '
        || strftime(snapshot_date, '%d/%m/%Y') || ', more than the official province total of '
        || province_installs as message,
    from province_sums
    where area_installs > province_installs
),

unattributed as (
    select
        'unattributed_share' as check_id,
        {{ dq_severity('unattributed_share') }} as severity,
        province_code as unit_code,
        province_code,
        snapshot_date as day,
        cast(round((province_installs - area_installs) / province_installs, 4) as varchar)
            as observed,
        '<= {{ var("dq_unattributed_share_max") }}' as expected,
        name || ': ' || (province_installs - area_installs) || ' of '
        || province_installs || ' installs ('
        || cast(
            round(100 * (province_installs - area_installs) / province_installs, 1)
            as varchar
        )
        || ' %) on ' || strftime(snapshot_date, '%d/%m/%Y')
        || ' are not attributed to any {{ area }}' as message,
    from province_sums
    where
        province_installs > 0
        and (province_installs - area_installs) / province_installs
        > {{ var("dq_unattributed_share_max") }}
),

over_100 as (
    -- every denominator, adults and smartphone owners included (DESIGN §4)
    select
        'coverage_over_100' as check_id,
        {{ dq_severity('coverage_over_100') }} as severity,
        unit_code,
        province_code,
        snapshot_date as day,
        cast(installs as varchar) as observed,
        '<= ' || least(
            population_total, population_15plus, population_18plus,
            cast(floor(smartphone_owners_est) as bigint)
        ) as expected,
        name || ': ' || installs || ' installs on ' || strftime(snapshot_date, '%d/%m/%Y')
        || ' exceed ' || concat_ws(
            ', ',
            case
                when installs > population_total
                    then 'the 2019-census population of ' || population_total
            end,
            case
                when installs > population_15plus
                    then 'the population aged 15+ of ' || population_15plus
            end,
            case
                when installs > population_18plus
                    then 'the population aged 18+ of ' || population_18plus
            end,
            case
                when installs > smartphone_owners_est
                    then 'the estimated ' || round(smartphone_owners_est) || ' smartphone owners'
            end
        ) as message,
    from named
    where
        installs > population_total
        or installs > population_15plus
        or installs > population_18plus
        or installs > smartphone_owners_est
),

increments as (
    select
        filled.level,
        filled.unit_code,
        filled.snapshot_date,
        filled.is_estimated,
        filled.new_installs,
        list(filled.new_installs) over (
            partition by filled.level, filled.unit_code order by filled.snapshot_date
            rows between {{ var("dq_outlier_window") }} preceding and 1 preceding
        ) as history,
        list(filled.new_installs) over (
            partition by filled.level, filled.unit_code order by filled.snapshot_date
            rows between {{ var("dq_outlier_ratio_window") }} preceding and 1 preceding
        ) as recent,
    from filled
),

scored as (
    select
        *,
        list_filter(history, lambda increment: increment is not null) as known_history,
        list_aggregate(list_filter(history, lambda increment: increment is not null), 'median')
            as history_median,
        list_avg(list_filter(recent, lambda increment: increment is not null)) as recent_mean,
    from increments
),

with_mad as (
    select
        *,
        list_aggregate(
            list_transform(known_history, lambda increment: abs(increment - history_median)),
            'median'
        ) as history_mad,
    from scored
),

outliers as (
    select
        'outlier_increment' as check_id,
        {{ dq_severity('outlier_increment') }} as severity,
        with_mad.unit_code,
        units.province_code,
        with_mad.snapshot_date as day,
        cast(round(with_mad.new_installs, 1) as varchar) as observed,
        'median ' || round(with_mad.history_median, 1) || ', 7-day mean '
        || round(with_mad.recent_mean, 1) as expected,
        units.name || ': ' || round(with_mad.new_installs) || ' new installs on '
        || strftime(with_mad.snapshot_date, '%d/%m/%Y') || ' against a median of '
        || round(with_mad.history_median) || ' over the previous '
        || len(with_mad.known_history) || ' days: check the figure' as message,
    from with_mad
    inner join units
        on
            with_mad.unit_code = units.unit_code
            and with_mad.level = units.level
    where
        not with_mad.is_estimated
        and with_mad.level in ('province', '{{ area }}')
        and with_mad.new_installs > {{ var("dq_outlier_min_volume") }}
        and len(with_mad.known_history) >= {{ var("dq_outlier_min_history") }}
        and (
            (
                with_mad.history_mad > 0
                and 0.6745 * (with_mad.new_installs - with_mad.history_median)
                / with_mad.history_mad > {{ var("dq_outlier_z") }}
            )
            -- a week of no installs has a mean of 0: any increment above it counts
            or with_mad.new_installs > {{ var("dq_outlier_ratio") }} * with_mad.recent_mean
        )
),

export_days as (
    select distinct snapshot_date from figures
),

expected_days as (
    select
        cast(unnest(generate_series(
            (select min(export_days.snapshot_date) from export_days),
            cast('{{ run_var("run_date") }}' as date),
            interval 1 day
        )) as date) as snapshot_date,
),

stale as (
    select
        'stale_export' as check_id,
        {{ dq_severity('stale_export') }} as severity,
        'VN' as unit_code,
        cast(null as varchar) as province_code,
        expected_days.snapshot_date as day,
        'no export' as observed,
        'an export for the day' as expected,
        'No install export has arrived for ' || strftime(expected_days.snapshot_date, '%d/%m/%Y')
        || ': coverage for that day is interpolated until it does' as message,
    from expected_days
    where expected_days.snapshot_date not in (select export_days.snapshot_date from export_days)
),

expected_provinces as (
    select
        export_days.snapshot_date,
        units.unit_code as province_code,
        units.name,
    from export_days
    cross join units
    where units.level = 'province'
),

provinces_missing as (
    select
        'export_incomplete' as check_id,
        {{ dq_severity('export_incomplete') }} as severity,
        expected_provinces.province_code as unit_code,
        expected_provinces.province_code,
        expected_provinces.snapshot_date as day,
        'no province row' as observed,
        'a province row' as expected,
        expected_provinces.name || ': the install export for '
        || strftime(expected_provinces.snapshot_date, '%d/%m/%Y')
        || ' has no row for this province; the national'
        || '{{ " and regional" if has_level("region") }} figures that day leave'
        || ' it out and say so (parts_included)' as message,
    from expected_provinces
    anti join figures
        on
            expected_provinces.province_code = figures.unit_code
            and expected_provinces.snapshot_date = figures.snapshot_date
            and figures.level = 'province'
),

area_counts as (
    select
        figures.snapshot_date,
        units.province_code,
        count(*) as areas_present,
    from figures
    inner join units on figures.unit_code = units.unit_code and units.level = '{{ area }}'
    where figures.level = '{{ area }}'
    group by all
),

areas_missing as (
    select
        'export_incomplete' as check_id,
        {{ dq_severity('export_incomplete') }} as severity,
        named.unit_code,
        named.province_code,
        named.snapshot_date as day,
        coalesce(area_counts.areas_present, 0) || ' {{ areas }}' as observed,
        named.parts_expected || ' {{ areas }}' as expected,
        named.name || ': the install export for ' || strftime(named.snapshot_date, '%d/%m/%Y')
        || ' has ' || coalesce(area_counts.areas_present, 0) || ' of its '
        || named.parts_expected || ' {{ areas }}' as message,
    from named
    left join area_counts
        on
            named.unit_code = area_counts.province_code
            and named.snapshot_date = area_counts.snapshot_date
    where
        named.level = 'province'
        and coalesce(area_counts.areas_present, 0) < named.parts_expected
),

phone_exceeds as (
    select
        'installs_with_phone_exceeds_installs' as check_id,
        {{ dq_severity('installs_with_phone_exceeds_installs') }} as severity,
        unit_code,
        province_code,
        snapshot_date as day,
        cast(installs_with_phone as varchar) as observed,
        '<= ' || installs as expected,
        name || ': the install export for ' || strftime(snapshot_date, '%d/%m/%Y') || ' says '
        || installs_with_phone || ' installs with a phone number but only ' || installs
        || ' installs; the row is kept as sent, ask the ministry for a corrected export'
            as message,
    from named
    where installs_with_phone > installs
),

final as (
    select * from decreasing
    union all
    select * from provinces_missing
    union all
    select * from areas_missing
    union all
    select * from phone_exceeds
    union all
    select * from sum_exceeds
    union all
    select * from unattributed
    union all
    select * from over_100
    union all
    select * from outliers
    union all
    select * from stale
)

select
    *,
    cast(null as varchar) as source_file,
from final
