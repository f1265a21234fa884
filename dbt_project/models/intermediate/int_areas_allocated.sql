-- The units below the province (the unit set's area level: district-level units in 2020,
-- communes in 2025) with every denominator. Smartphone owners are allocated within the
-- province: for districts by the same population x urban-share propensity used between
-- provinces, for communes (no urban share) in proportion to population; adults for
-- communes in the province's proportion (seeds/README.md).
with

provinces as (
    select * from {{ ref('int_provinces_joined') }}
),

{% if area_level() == 'district' %}

    districts as (
        select * from {{ ref('stg_seeds__districts') }}
    ),

    weighted as (
        select
            districts.district_code as area_code,
            districts.province_code,
            districts.district_name_full as area_name_full,
            districts.district_name_full_ascii as area_name_full_ascii,
            districts.population_total,
            districts.population_15plus,
            districts.population_18plus,
            provinces.smartphone_owners_est as province_smartphone_owners,
            provinces.smartphone_owners_vintage,
            districts.population_total * (
                provinces.propensity_intercept
                + provinces.propensity_slope
                * coalesce(districts.population_urban / nullif(districts.population_total, 0), 0)
            ) as smartphone_weight,
        from districts
        inner join provinces on districts.province_code = provinces.province_code
    ),

{% else %}

    communes as (
        select * from {{ ref('stg_seeds__communes_2025') }}
    ),

    weighted as (
        select
            communes.commune_code as area_code,
            communes.province_code,
            communes.commune_name_full as area_name_full,
            communes.commune_name_ascii as area_name_full_ascii,
            communes.population_total_est as population_total,
            communes.population_total_est * provinces.population_15plus
            / provinces.population_total as population_15plus,
            communes.population_total_est * provinces.population_18plus
            / provinces.population_total as population_18plus,
            provinces.smartphone_owners_est as province_smartphone_owners,
            provinces.smartphone_owners_vintage,
            cast(communes.population_total_est as double) as smartphone_weight,
        from communes
        inner join provinces on communes.province_code = provinces.province_code
    ),

{% endif %}

allocated as (
    select
        area_code,
        province_code,
        area_name_full,
        area_name_full_ascii,
        population_total,
        population_15plus,
        population_18plus,
        province_smartphone_owners * smartphone_weight
        / nullif(sum(smartphone_weight) over (partition by province_code), 0)
            as smartphone_owners_est,
        smartphone_owners_vintage,
    from weighted
)

select * from allocated
