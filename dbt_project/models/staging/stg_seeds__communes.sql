-- The communes (phường, xã, thị trấn) as of 01/06/2020 (seeds/ref_communes.csv).
with

communes as (
    select * from {{ ref('ref_communes') }}
),

renamed as (
    select
        commune_code,
        district_code,
        province_code,
        commune_name_full,
        commune_name_ascii,
        commune_type,
    from communes
)

select * from renamed
