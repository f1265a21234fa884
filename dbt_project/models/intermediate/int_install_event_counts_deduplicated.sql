-- Daily install and uninstall counts per district from the newest delivery of each day's
-- event-level export.
with

newest as (
    {{ newest_delivery(ref('stg_raw__install_event_counts'), 'event_date') }}
),

final as (
    select
        event_date,
        district_code,
        installs,
        uninstalls,
        installs_with_phone,
        uninstalls_with_phone,
        events,
        source_file,
        file_id,
    from newest
    where event_date <= cast('{{ run_var("run_date") }}' as date)
)

select * from final
