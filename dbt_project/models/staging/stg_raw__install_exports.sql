-- Every row of every delivery of the install export, as loaded (DESIGN §3.2).
with

source as (
    select * from {{ source('raw', 'install_exports') }}
),

renamed as (
    select
        snapshot_date,
        level,
        unit_code,
        installs,
        installs_with_phone,
        row_number as source_row_number,
        source_file,
        file_id,
        arrived_at,
        loaded_at,
    from source
)

select * from renamed
