{{ config(materialized='table') }}

-- Nation, regions, provinces and district-level units with every denominator.
with

units as (
    select * from {{ ref('int_admin_units_unioned') }}
),

final as (
    select * from units
)

select * from final
