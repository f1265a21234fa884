-- Every data-quality flag (DESIGN §5) as a row a person can act on. issue_id is stable: the
-- same problem found again on a rerun is the same row, and detected_at keeps the time it
-- was first found (ops.dq_first_seen, kept by the pipeline after every successful build).
with

first_seen as (
    select * from {{ source('ops', 'dq_first_seen') }}
),

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
            '|', check_id, coalesce(unit_code, ''), coalesce(cast(day as varchar), ''),
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
        deduplicated.issue_id,
        deduplicated.check_id,
        deduplicated.severity,
        deduplicated.unit_code,
        deduplicated.province_code,
        deduplicated.day,
        deduplicated.observed,
        deduplicated.expected,
        deduplicated.message,
        deduplicated.source_file,
        deduplicated.source_row_number,
        deduplicated.column_name,
        coalesce(
            first_seen.detected_at,
            cast('{{ var("run_started_at") }}' as timestamptz)
        ) as detected_at,
    from deduplicated
    left join first_seen on deduplicated.issue_id = first_seen.issue_id
)

select * from final
