{{ config(unique_key=['snapshot_date', 'commune_code'], event_time='snapshot_date') }}

-- Cumulative installs per commune and snapshot day, from the commune rows of the export (the
-- commune-level variant of a 2020 export; every export of a campaign on the 2025 units).
-- The figures are installs, new installs and, in 2020, the commune's share of its
-- district's attributed installs (2020 communes have no census population, so no coverage;
-- a 2025 campaign's commune coverage is in fct_coverage_daily).
with

exports as (
    select * from {{ ref('int_install_exports_deduplicated') }}
    -- the window's days, and the day before it for the first day's new installs
    where {{ in_rebuild_window('snapshot_date', days_before=1) }}
),

reference_communes as (
    {% if area_level() == 'commune' -%}
    -- the campaign's own communes (2025): no district level above them
        select
            commune_code,
            cast(null as varchar) as district_code,
            province_code,
            commune_name_full,
            commune_type,
        from {{ ref('stg_seeds__communes_2025') }}
    {%- else -%}
        select * from {{ ref('stg_seeds__communes') }}
    {%- endif %}
),

communes as (
    select
        snapshot_date,
        unit_code as commune_code,
        installs,
        installs_with_phone,
        source_file,
    from exports
    where level = 'commune'
),

districts as (
    select
        snapshot_date,
        unit_code as district_code,
        installs as district_installs,
    from exports
    where level = 'district'
),

named as (
    select
        communes.*,
        reference_communes.district_code,
        reference_communes.province_code,
        reference_communes.commune_name_full as commune_name,
        reference_communes.commune_type,
    from communes
    inner join reference_communes
        on communes.commune_code = reference_communes.commune_code
),

final as (
    select
        named.snapshot_date,
        named.commune_code,
        named.commune_name,
        named.commune_type,
        named.district_code,
        named.province_code,
        named.installs,
        named.installs_with_phone,
        case
            when lag(named.snapshot_date) over by_commune = named.snapshot_date - 1
                then named.installs - lag(named.installs) over by_commune
        end as new_installs,
        named.installs / nullif(districts.district_installs, 0) as share_of_district_installs,
        named.source_file,
    from named
    left join districts
        on
            named.snapshot_date = districts.snapshot_date
            and named.district_code = districts.district_code
    window by_commune as (partition by named.commune_code order by named.snapshot_date)
)

select * from final
{{ rebuild_window() }}
