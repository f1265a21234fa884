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

joined as (
    select
        rolling.*,
        units.parent_code,
        units.province_code,
        units.region_code,
        units.denominator_vintage,
        units.smartphone_owners_vintage,
        -- a region or the nation divides by the provinces it includes (DESIGN §4)
        coalesce(rolling.population_total_included, units.population_total)
            as denominator_population_total,
        coalesce(rolling.population_15plus_included, units.population_15plus)
            as denominator_population_15plus,
        coalesce(rolling.population_18plus_included, units.population_18plus)
            as denominator_population_18plus,
        coalesce(rolling.smartphone_owners_est_included, units.smartphone_owners_est)
            as denominator_smartphone_owners,
    from rolling
    inner join units
        on
            rolling.unit_code = units.unit_code
            and rolling.level = units.level
),

final as (
    select
        snapshot_date,
        unit_code,
        level,
        parent_code,
        province_code,
        region_code,
        installs,
        installs_with_phone,
        new_installs,
        case when new_installs_7d_count = 7 then new_installs_7d_mean end as new_installs_7d_avg,
        is_estimated,
        parts_level,
        parts_included,
        parts_expected,
        coalesce(parts_included = parts_expected, true) as is_complete,
        installs / nullif(denominator_population_total, 0) as coverage_population,
        installs / nullif(denominator_population_15plus, 0) as coverage_adults_15plus,
        installs / nullif(denominator_population_18plus, 0) as coverage_adults_18plus,
        installs / nullif(denominator_smartphone_owners, 0) as coverage_smartphone_owners,
        coalesce(installs > denominator_population_total, false) as is_over_100,
        coalesce(installs > denominator_population_15plus, false) as is_over_100_adults_15plus,
        coalesce(installs > denominator_smartphone_owners, false)
            as is_over_100_smartphone_owners,
        denominator_population_total,
        denominator_population_15plus,
        denominator_population_18plus,
        denominator_smartphone_owners,
        denominator_vintage,
        smartphone_owners_vintage,
    from joined
)

select * from final
{{ rebuild_window() }}
