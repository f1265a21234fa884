-- Provinces with their 2019-census populations (seeds/ref_provinces.csv).
with

provinces as (
    select * from {{ ref('ref_provinces') }}
),

renamed as (
    select
        province_code,
        province_name,
        province_name_full,
        province_name_ascii,
        province_type,
        region_code,
        population_total,
        population_urban,
        urban_share,
        population_15plus,
        population_18plus,
    from provinces
)

select * from renamed
