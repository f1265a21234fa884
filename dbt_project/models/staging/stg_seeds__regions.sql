-- The socio-economic regions (seeds/ref_regions.csv).
with

regions as (
    select * from {{ ref('ref_regions') }}
),

renamed as (
    select
        region_code,
        region_name,
        region_name_ascii,
        region_name_en,
    from regions
)

select * from renamed
