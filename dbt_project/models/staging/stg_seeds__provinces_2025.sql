-- The 34 provinces in force since 1 July 2025 (seeds/ref_provinces_2025.csv): 2019-census
-- populations carried over (sums of their 2020 provinces), published population and area.
with

provinces as (
    select * from {{ ref('ref_provinces_2025') }}
),

renamed as (
    select
        province_code,
        province_name,
        province_name_full,
        province_name_ascii,
        province_type,
        n_communes,
        population_total,
        population_15plus,
        population_18plus,
        population_published,
        population_published_year,
        area_km2,
    from provinces
)

select * from renamed
