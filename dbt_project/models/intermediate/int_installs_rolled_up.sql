-- Every level on every day: districts as attributed, provinces from the ministry's official
-- province rows, regions and the nation as sums of their provinces.
with

filled as (
    select * from {{ ref('int_installs_gaps_filled') }}
),

province_regions as (
    select * from {{ ref('stg_seeds__provinces') }}
),

provinces as (
    select
        filled.*,
        province_regions.region_code,
    from filled
    inner join province_regions on filled.unit_code = province_regions.province_code
    where filled.level = 'province'
),

summed as (
    -- one pass for both: per region and day, and per day for the nation
    select
        case when grouping(region_code) = 0 then 'region' else 'nation' end as level,
        coalesce(region_code, 'VN') as unit_code,
        snapshot_date,
        bool_or(is_estimated) as is_estimated,
        cast(sum(installs) as bigint) as installs,
        cast(sum(installs_with_phone) as bigint) as installs_with_phone,
        sum(new_installs) as new_installs,
    from provinces
    group by grouping sets ((region_code, snapshot_date), (snapshot_date))
),

final as (
    select * from filled
    union all by name
    select * from summed
)

select * from final
