-- Daily install and uninstall counts per district, from every delivery of the event-level
-- export.
with

source as (
    select * from {{ source('raw', 'install_event_counts') }}
),

renamed as (
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
        arrived_at,
        loaded_at,
    from source
)

select * from renamed
