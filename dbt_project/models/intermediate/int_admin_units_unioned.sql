-- Every unit of the campaign's unit set with every denominator: the nation, the regions
-- (when the set has them), the provinces and the units below them (the set's area level:
-- district-level units in 2020, communes in 2025).
with

provinces as (
    select * from {{ ref('int_provinces_joined') }}
),

areas as (
    select * from {{ ref('int_areas_allocated') }}
),

{% if has_level('region') %}
    regions as (
        select * from {{ ref('stg_seeds__regions') }}
    ),
{% endif %}

nation as (
    select
        'VN' as unit_code,
        'nation' as level,
        cast(null as varchar) as parent_code,
        'Việt Nam' as name,
        'Viet Nam' as name_ascii,
        cast(null as varchar) as region_code,
        cast(null as varchar) as province_code,
        sum(population_total) as population_total,
        sum(population_15plus) as population_15plus,
        sum(population_18plus) as population_18plus,
        sum(smartphone_owners_est) as smartphone_owners_est,
        max(smartphone_owners_vintage) as smartphone_owners_vintage,
    from provinces
),

{% if has_level('region') %}
    region_rows as (
        select
            regions.region_code as unit_code,
            'region' as level,
            'VN' as parent_code,
            regions.region_name as name,
            regions.region_name_ascii as name_ascii,
            regions.region_code,
            cast(null as varchar) as province_code,
            sum(provinces.population_total) as population_total,
            sum(provinces.population_15plus) as population_15plus,
            sum(provinces.population_18plus) as population_18plus,
            sum(provinces.smartphone_owners_est) as smartphone_owners_est,
            max(provinces.smartphone_owners_vintage) as smartphone_owners_vintage,
        from regions
        inner join provinces on regions.region_code = provinces.region_code
        group by all
    ),
{% endif %}

province_rows as (
    select
        province_code as unit_code,
        'province' as level,
        {% if has_level('region') %}region_code{% else %}'VN'{% endif %} as parent_code,
        province_name as name,
        province_name_ascii as name_ascii,
        region_code,
        province_code,
        population_total,
        population_15plus,
        population_18plus,
        cast(smartphone_owners_est as double) as smartphone_owners_est,
        smartphone_owners_vintage,
    from provinces
),

area_rows as (
    select
        areas.area_code as unit_code,
        '{{ area_level() }}' as level,
        areas.province_code as parent_code,
        areas.area_name_full as name,
        areas.area_name_full_ascii as name_ascii,
        provinces.region_code,
        areas.province_code,
        areas.population_total,
        areas.population_15plus,
        areas.population_18plus,
        areas.smartphone_owners_est,
        areas.smartphone_owners_vintage,
    from areas
    inner join provinces on areas.province_code = provinces.province_code
),

unioned as (
    select * from nation
    {% if has_level('region') %}
        union all by name
        select * from region_rows
    {% endif %}
    union all by name
    select * from province_rows
    union all by name
    select * from area_rows
),

parts as (
    -- what each unit is made of: provinces for a region and the nation, the area level's
    -- units for a province (the one home of "how many parts a unit has", DESIGN §4)
    {% if has_level('region') %}
        select
            case when grouping(region_code) = 0 then region_code else 'VN' end as unit_code,
            case when grouping(region_code) = 0 then 'region' else 'nation' end as level,
            count(*) as parts_expected,
        from province_rows
        group by grouping sets ((region_code), ())
    {% else %}
        select
            'VN' as unit_code,
            'nation' as level,
            count(*) as parts_expected,
        from province_rows
    {% endif %}
    union all
    select
        province_code as unit_code,
        'province' as level,
        -- a unit without residents (Hoàng Sa) has no installs to attribute
        count(*) filter (where population_total > 0) as parts_expected,
    from area_rows
    group by province_code
),

final as (
    select
        unioned.unit_code,
        unioned.level,
        unioned.parent_code,
        unioned.name,
        unioned.name_ascii,
        unioned.region_code,
        unioned.province_code,
        unioned.population_total,
        unioned.population_15plus,
        unioned.population_18plus,
        unioned.smartphone_owners_est,
        'census_2019' as denominator_vintage,
        unioned.smartphone_owners_vintage,
        case unioned.level
            when '{{ area_level() }}' then null
            when 'province' then '{{ area_level() }}'
            else 'province'
        end as parts_level,
        parts.parts_expected,
    from unioned
    left join parts on unioned.unit_code = parts.unit_code and unioned.level = parts.level
)

select * from final
