-- The reporting-unit registry without its contacts: personal data stays in the seed and
-- feeds alerts only, never the marts.
with

units as (
    select * from {{ ref('reporting_units') }}
),

renamed as (
    select
        unit_code,
        unit_name,
        unit_name_ascii,
        unit_kind,
        province_code,
        nullif(district_code, '') as district_code,
        deadline_local,
        reports_from,
        reports_to,
    from units
)

select * from renamed
