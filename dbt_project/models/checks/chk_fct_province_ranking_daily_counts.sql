with

ranking_rows as (
    select * from {{ ref('fct_province_ranking') }}
),

coverage_rows as (
    select * from {{ ref('fct_coverage_daily') }}
),

ranking as (
    select
        snapshot_date,
        count(*) as row_count,
        max(provinces_ranked) as provinces_ranked,
    from ranking_rows
    group by snapshot_date
),

coverage as (
    select
        snapshot_date,
        count(*) as coverage_province_rows,
    from coverage_rows
    where level = 'province'
    group by snapshot_date
),

days as (
    {{ calendar_days('min(snapshot_date)', 'max(snapshot_date)', 'ranking', 'snapshot_date') }}
),

final as (
    select
        days.snapshot_date,
        coalesce(ranking.row_count, 0) as row_count,
        coalesce(ranking.provinces_ranked, 0) as provinces_ranked,
        coalesce(coverage.coverage_province_rows, 0) as coverage_province_rows,
    from days
    left join ranking on days.snapshot_date = ranking.snapshot_date
    left join coverage on days.snapshot_date = coverage.snapshot_date
)

select * from final
