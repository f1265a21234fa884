-- Every level on every day: the units below the province (the unit set's area level:
-- districts in 2020, communes in 2025) as attributed, provinces from the ministry's official
-- province rows, regions (when the set has them) and the nation as sums of their provinces.
-- An aggregate never silently omits a part (DESIGN §4): each row says how many of its parts
-- (provinces for a region or the nation, the area level's units for a province) it
-- includes and how many there are, and a region or the nation carries the denominators of
-- the provinces it includes, so that its coverage divides by those.
with

filled as (
    select * from {{ ref('int_installs_gaps_filled') }}
),

units as (
    select * from {{ ref('int_admin_units_unioned') }}
),

province_units as (
    select * from units
    where level = 'province'
),

provinces as (
    select
        filled.*,
        province_units.region_code,
        province_units.population_total,
        province_units.population_15plus,
        province_units.population_18plus,
        province_units.smartphone_owners_est,
    from filled
    inner join province_units on filled.unit_code = province_units.unit_code
    where filled.level = 'province'
),

summed as (
    select
        {% if has_level('region') -%}
            case when grouping(region_code) = 0 then 'region' else 'nation' end as level,
            coalesce(region_code, 'VN') as unit_code,
        {%- else -%}
            'nation' as level,
            'VN' as unit_code,
        {%- endif %}
        snapshot_date,
        bool_or(is_estimated) as is_estimated,
        cast(sum(installs) as bigint) as installs,
        cast(sum(installs_with_phone) as bigint) as installs_with_phone,
        sum(new_installs) as new_installs,
        'province' as parts_level,
        count(*) as parts_included,
        sum(population_total) as population_total_included,
        sum(population_15plus) as population_15plus_included,
        sum(population_18plus) as population_18plus_included,
        sum(smartphone_owners_est) as smartphone_owners_est_included,
    from provinces
    {% if has_level('region') -%}
        group by grouping sets ((region_code, snapshot_date), (snapshot_date))
    {%- else -%}
        group by grouping sets ((snapshot_date))
    {%- endif %}
),

aggregates as (
    select
        summed.*,
        units.parts_expected,
    from summed
    inner join units on summed.level = units.level and summed.unit_code = units.unit_code
),

areas_included as (
    select
        units.province_code,
        filled.snapshot_date,
        count(*) as parts_included,
    from filled
    inner join units
        on filled.unit_code = units.unit_code and units.level = '{{ area_level() }}'
    where filled.level = '{{ area_level() }}'
    group by all
),

province_rows as (
    select
        filled.*,
        province_units.parts_level,
        coalesce(areas_included.parts_included, 0) as parts_included,
        province_units.parts_expected,
    from filled
    inner join province_units on filled.unit_code = province_units.unit_code
    left join areas_included
        on
            filled.unit_code = areas_included.province_code
            and filled.snapshot_date = areas_included.snapshot_date
    where filled.level = 'province'
),

final as (
    select * from filled
    where level = '{{ area_level() }}'
    union all by name
    select * from province_rows
    union all by name
    select * from aggregates
)

select * from final
