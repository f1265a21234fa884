-- Every delivery (arrival of a file) in the landing zone, as the manifest records it
-- (DESIGN §3.3): when it arrived, what became of it, and for a duplicate the delivery whose
-- content it repeats.
with

source as (
    select * from {{ source('raw', 'landing_files') }}
),

renamed as (
    select
        file_id,
        source,
        path as source_file,
        file_name,
        checksum,
        arrived_at as received_at,
        status,
        reason,
        content_file_id,
        rows_loaded,
        rows_rejected,
        snapshot_date,
        first_seen_at,
        run_id,
    from source
)

select * from renamed
