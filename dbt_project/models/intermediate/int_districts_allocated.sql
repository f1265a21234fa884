-- District-level units; smartphone owners allocated within the province by the same
-- population x urban-share propensity used between provinces (seeds/README.md).
with

districts as (
    select * from {{ ref('stg_seeds__districts') }}
),

provinces as (
    select * from {{ ref('int_provinces_joined') }}
),

weighted as (
    select
        districts.*,
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

allocated as (
    select
        district_code,
        province_code,
        district_name,
        district_name_full,
        district_name_ascii,
        district_name_full_ascii,
        district_type,
        population_total,
        population_urban,
        population_15plus,
        population_18plus,
        population_basis,
        province_smartphone_owners * smartphone_weight
        / sum(smartphone_weight) over (partition by province_code) as smartphone_owners_est,
        smartphone_owners_vintage,
    from weighted
)

select * from allocated
