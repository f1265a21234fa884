with

coverage as (
    select * from {{ ref('fct_coverage_daily') }}
),

counts as (
    select
        snapshot_date,
        count(*) filter (where level = 'nation') as nation_rows,
        count(*) filter (where level = 'region') as region_rows,
        count(*) filter (where level = 'province') as province_rows,
        count(*) filter (where level = '{{ area_level() }}') as area_rows,
        count(distinct region_code) filter (where level = 'province') as regions_of_provinces,
    from coverage
    group by snapshot_date
),

days as (
    {{ calendar_days('min(snapshot_date)', 'max(snapshot_date)', 'counts', 'snapshot_date') }}
),

final as (
    select
        days.snapshot_date,
        coalesce(counts.nation_rows, 0) as nation_rows,
        coalesce(counts.region_rows, 0) as region_rows,
        coalesce(counts.province_rows, 0) as province_rows,
        coalesce(counts.area_rows, 0) as area_rows,
        coalesce(counts.regions_of_provinces, 0) as regions_of_provinces,
    from days
    left join counts on days.snapshot_date = counts.snapshot_date
)

select * from final
