-- The 3,321 communes in force since 1 July 2025 (seeds/ref_communes_2025.csv), with the 2019
-- census carried onto them (an estimate where a 2020 commune was split) and the published
-- population and area.
with

communes as (
    select * from {{ ref('ref_communes_2025') }}
),

renamed as (
    select
        commune_code,
        province_code,
        commune_name,
        commune_name_full,
        commune_name_ascii,
        commune_type,
        population_total_est,
        population_basis,
        population_published,
        area_km2,
        lat,
        lon,
    from communes
)

select * from renamed
