{{ config(materialized='table') }}

-- Every unit of the campaign's unit set (nation, regions, provinces and district-level units
-- in 2020; nation, provinces and communes in 2025) with every denominator.
with

units as (
    select * from {{ ref('int_admin_units_unioned') }}
),

final as (
    select * from units
)

select * from final
