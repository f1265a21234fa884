{{ config(materialized='table') }}

-- Every data-quality flag of the three flag models with a stable issue_id: a hash of what
-- identifies the problem (check, unit, day, file, row, column, observed value), so the same
-- problem found again on a rerun has the same id. A table: the data-quality mart and the
-- first-seen log both read it, so the flags of the whole campaign are worked out once a
-- build, not once for each.
with

report_flags as (
    select * from {{ ref('int_dq_report_flags') }}
),

export_flags as (
    select * from {{ ref('int_dq_export_flags') }}
),

ingest_flags as (
    select * from {{ ref('int_dq_ingest_flags') }}
),

unioned as (
    select
        *,
        cast(null as integer) as source_row_number,
        cast(null as varchar) as column_name,
    from report_flags
    union all by name
    select
        *,
        cast(null as integer) as source_row_number,
        cast(null as varchar) as column_name,
    from export_flags
    union all by name
    select * from ingest_flags
),

identified as (
    select
        md5(concat_ws(
            -- an issue keeps the id it was first published with, whatever its check is
            -- called now (the catalogue's `formerly`)
            '|', {{ dq_issue_key('check_id') }},
            coalesce(unit_code, ''), coalesce(cast(day as varchar), ''),
            coalesce(source_file, ''), coalesce(cast(source_row_number as varchar), ''),
            coalesce(column_name, ''), coalesce(observed, '')
        )) as issue_id,
        *,
    from unioned
),

deduplicated as (
    select * from identified
    qualify row_number() over (partition by issue_id order by message) = 1
),

final as (
    select
        issue_id,
        check_id,
        severity,
        unit_code,
        province_code,
        day,
        observed,
        expected,
        message,
        source_file,
        source_row_number,
        column_name,
    from deduplicated
)

select * from final
