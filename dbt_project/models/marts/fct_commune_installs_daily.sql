{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rebuild_window('snapshot_date') }}",
    )
}}

-- Cumulative installs per commune and snapshot day, from the commune-level export variant.
-- Communes have no census population in the reference data, so no coverage: the figures
-- are installs, new installs and the commune's share of its district's attributed installs.
with

communes as (
    select
        snapshot_date,
        unit_code as commune_code,
        installs,
        installs_with_phone,
        source_file,
    from {{ ref('stg_raw__install_exports') }}
    where level = 'commune'
),

districts as (
    select
        snapshot_date,
        unit_code as district_code,
        installs as district_installs,
    from {{ ref('stg_raw__install_exports') }}
    where level = 'district'
),

named as (
    select
        communes.*,
        ref_communes.district_code,
        ref_communes.province_code,
        ref_communes.commune_name_full as commune_name,
        ref_communes.commune_type,
    from communes
    inner join {{ ref('ref_communes') }} as ref_communes
        on communes.commune_code = ref_communes.commune_code
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
{{ in_rebuild_window('snapshot_date') }}
