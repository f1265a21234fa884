-- Every valid submission of a unit report, as loaded (DESIGN §3.3).
with

source as (
    select * from {{ source('raw', 'unit_reports') }}
),

renamed as (
    select
        report_date,
        unit_code,
        submitted_at,
        timezone('{{ var("local_tz") }}', submitted_at) as submitted_at_local,
        submitted_at_source,
        installs_reported,
        staff_total,
        staff_installed,
        households_visited,
        match_method,
        source_file,
        row_number as source_row_number,
        file_id,
        arrived_at,
        loaded_at,
    from source
)

select * from renamed
