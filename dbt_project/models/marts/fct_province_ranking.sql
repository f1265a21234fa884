{{ config(unique_key=['snapshot_date', 'province_code'], event_time='snapshot_date') }}

-- Each province's rank among the provinces with figures that day, by coverage of population
-- and by number of installs (ties share a rank), the change since the previous day
-- (positive = moved up), and the ministry's watch list of provinces below 10 %.
with

coverage as (
    select * from {{ ref('fct_coverage_daily') }}
    where level = 'province'
),

ranked as (
    select
        snapshot_date,
        unit_code as province_code,
        installs,
        coverage_population,
        new_installs_7d_avg,
        rank() over (
            partition by snapshot_date order by coverage_population desc
        ) as rank_by_coverage,
        rank() over (partition by snapshot_date order by installs desc) as rank_by_installs,
        count(*) over (partition by snapshot_date) as provinces_ranked,
    from coverage
),

with_change as (
    select
        *,
        lag(rank_by_coverage) over by_province - rank_by_coverage as rank_change,
        lag(rank_by_installs) over by_province - rank_by_installs as rank_by_installs_change,
    from ranked
    window by_province as (partition by province_code order by snapshot_date)
),

final as (
    select
        snapshot_date,
        province_code,
        installs,
        coverage_population,
        new_installs_7d_avg,
        rank_by_coverage,
        rank_by_installs,
        rank_change,
        rank_by_installs_change,
        provinces_ranked,
        coverage_population < 0.10 as is_below_10pct,
    from with_change
)

select * from final
{{ rebuild_window() }}
