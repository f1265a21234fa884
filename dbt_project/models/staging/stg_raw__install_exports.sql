-- One row per unit and snapshot day, from the newest delivery of that day's export.
with

newest as (
    {{ newest_delivery(source('raw', 'install_exports'), 'snapshot_date') }}
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
    where snapshot_date <= cast('{{ var("run_date") }}' as date)
)

select * from final
