-- District-level units in force in August 2020 with their 2019-census populations
-- (seeds/ref_districts.csv).
with

districts as (
    select * from {{ ref('ref_districts') }}
),

renamed as (
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
    from districts
)

select * from renamed
