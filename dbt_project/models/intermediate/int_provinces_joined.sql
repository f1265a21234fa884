-- The campaign's provinces with their smartphone-owner estimate (and, for the 2020 units,
-- the propensity line it was split by). On a unit set carried over from 2020 (the 2025
-- provinces), every figure is the exact sum of the 2020 provinces it is made of.
with

provinces as (
    select * from {{ ref('stg_seeds__provinces') }}
),

smartphones as (
    select * from {{ ref('stg_seeds__smartphone_owners') }}
),

joined as (
    select
        provinces.province_code,
        provinces.province_name,
        provinces.province_name_full,
        provinces.province_name_ascii,
        provinces.province_type,
        provinces.region_code,
        provinces.population_total,
        provinces.population_urban,
        provinces.urban_share,
        provinces.population_15plus,
        provinces.population_18plus,
        smartphones.smartphone_owners_est,
        smartphones.propensity_intercept,
        smartphones.propensity_slope,
        smartphones.smartphone_owners_vintage,
    from provinces
    left join smartphones on provinces.province_code = smartphones.province_code
),

{% if unit_set().get('carried_from') %}

    crosswalk as (
        select * from {{ ref('stg_seeds__province_crosswalk') }}
    ),

    provinces_now as (
        select * from {{ ref('stg_seeds__provinces_2025') }}
    ),

    carried as (
        select
            provinces_now.province_code,
            provinces_now.province_name,
            provinces_now.province_name_full,
            provinces_now.province_name_ascii,
            provinces_now.province_type,
            cast(null as varchar) as region_code,
            provinces_now.population_total,
            cast(sum(joined.population_urban) as bigint) as population_urban,
            round(sum(joined.population_urban) / provinces_now.population_total, 4) as urban_share,
            provinces_now.population_15plus,
            provinces_now.population_18plus,
            sum(joined.smartphone_owners_est) as smartphone_owners_est,
            cast(null as double) as propensity_intercept,
            cast(null as double) as propensity_slope,
            max(joined.smartphone_owners_vintage) as smartphone_owners_vintage,
        from provinces_now
        inner join crosswalk on provinces_now.province_code = crosswalk.province_code_2025
        inner join joined on crosswalk.province_code_2020 = joined.province_code
        group by
            provinces_now.province_code,
            provinces_now.province_name,
            provinces_now.province_name_full,
            provinces_now.province_name_ascii,
            provinces_now.province_type,
            provinces_now.population_total,
            provinces_now.population_15plus,
            provinces_now.population_18plus
    ),

    final as (
        select * from carried
    )

{% else %}

    final as (
        select * from joined
    )

{% endif %}

select * from final
