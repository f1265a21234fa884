-- Each 2020 province and the 2025 province it lies wholly in
-- (seeds/xwalk_provinces_2020_2025.csv).
with

crosswalk as (
    select * from {{ ref('xwalk_provinces_2020_2025') }}
),

renamed as (
    select
        province_code_2020,
        province_code_2025,
        kind,
    from crosswalk
)

select * from renamed
