-- The reporting-unit registry of the campaign's unit set (reporting_units for 2020,
-- reporting_units_2025) without its contacts: personal data stays in the seed and feeds
-- alerts only, never the marts.
with

units as (
    select * from {{ unit_seed('registry') }}
),

renamed as (
    select
        unit_code,
        unit_name,
        unit_name_ascii,
        unit_kind,
        province_code,
        nullif(district_code, '') as district_code,
        -- the administrative unit whose figures a committee reports (the unit set's area
        -- level); null for a provincial agency
        nullif(area_code, '') as area_code,
        deadline_local,
        reports_from,
        reports_to,
    from units
)

select * from renamed
