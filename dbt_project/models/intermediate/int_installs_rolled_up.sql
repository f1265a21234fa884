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

regions as (
    select
        'region' as level,
        region_code as unit_code,
        snapshot_date,
        bool_or(is_estimated) as is_estimated,
        cast(sum(installs) as bigint) as installs,
        cast(sum(installs_with_phone) as bigint) as installs_with_phone,
        sum(new_installs) as new_installs,
        count(*) as provinces_count,
    from provinces
    group by all
),

nation as (
    select
        'nation' as level,
        'VN' as unit_code,
        snapshot_date,
        bool_or(is_estimated) as is_estimated,
        cast(sum(installs) as bigint) as installs,
        cast(sum(installs_with_phone) as bigint) as installs_with_phone,
        sum(new_installs) as new_installs,
        count(*) as provinces_count,
    from provinces
    group by all
),

final as (
    select
        level,
        unit_code,
        snapshot_date,
        is_estimated,
        installs,
        installs_with_phone,
        new_installs
    from filled
    union all
    select
        level,
        unit_code,
        snapshot_date,
        is_estimated,
        installs,
        installs_with_phone,
        new_installs
    from regions
    union all
    select
        level,
        unit_code,
        snapshot_date,
        is_estimated,
        installs,
        installs_with_phone,
        new_installs
    from nation
)

select * from final
