-- Provinces with their smartphone-owner estimate and the propensity line it was split by.
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
)

select * from joined
