-- Quarantined files and rows, with the check they failed and why.
with

source as (
    select * from {{ source('raw', 'rejected_rows') }}
),

renamed as (
    select
        file_id,
        source,
        source_file,
        row_number as source_row_number,
        column_name,
        raw_value,
        check_id,
        reason,
        unit_code,
        province_code,
        day,
        detected_at,
        sheet,
        header,
        message,
    from source
)

select * from renamed
