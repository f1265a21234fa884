with

source as (
    select * from {{ source('raw', 'rejected_rows') }}
)

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
from source
