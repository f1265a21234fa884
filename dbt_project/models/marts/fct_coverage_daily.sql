{{ config(unique_key=['snapshot_date', 'unit_code', 'level'], event_time='snapshot_date') }}

-- Cumulative installs and coverage of every denominator, per unit and snapshot day.
with

installs as (
    select * from {{ ref('int_installs_rolled_up') }}
),

units as (
    select * from {{ ref('dim_admin_units') }}
),

rolling as (
    select
        *,
        avg(new_installs) over seven_days as new_installs_7d_mean,
        count(new_installs) over seven_days as new_installs_7d_count,
    from installs
    window seven_days as (
        partition by level, unit_code order by snapshot_date
        rows between 6 preceding and current row
    )
),

final as (
    select
        rolling.snapshot_date,
        rolling.unit_code,
        rolling.level,
        units.parent_code,
        units.province_code,
        units.region_code,
        rolling.installs,
        rolling.installs_with_phone,
        rolling.new_installs,
        case when rolling.new_installs_7d_count = 7 then rolling.new_installs_7d_mean end
            as new_installs_7d_avg,
        rolling.is_estimated,
        rolling.installs / nullif(units.population_total, 0) as coverage_population,
        rolling.installs / nullif(units.population_15plus, 0) as coverage_adults_15plus,
        rolling.installs / nullif(units.population_18plus, 0) as coverage_adults_18plus,
        rolling.installs / nullif(units.smartphone_owners_est, 0) as coverage_smartphone_owners,
        coalesce(rolling.installs > units.population_total, false) as is_over_100,
        coalesce(rolling.installs > units.smartphone_owners_est, false)
            as is_over_100_smartphone_owners,
        units.denominator_vintage,
        units.smartphone_owners_vintage,
    from rolling
    inner join units
        on
            rolling.unit_code = units.unit_code
            and rolling.level = units.level
)

select * from final
{{ rebuild_window() }}
