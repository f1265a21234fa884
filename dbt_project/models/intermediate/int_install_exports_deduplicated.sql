-- One row per unit and snapshot day, from the newest delivery of that day's export: a
-- corrected re-delivery replaces the earlier one, which stays in raw for audit.
with

newest as (
    {{ newest_delivery(ref('stg_raw__install_exports'), 'snapshot_date') }}
),

final as (
    select
        snapshot_date,
        level,
        unit_code,
        installs,
        installs_with_phone,
        source_file,
        file_id,
        arrived_at,
        deliveries_count,
    from newest
    where snapshot_date <= cast('{{ run_var("run_date") }}' as date)
)

select * from final
