{{ config(materialized='table') }}

-- Every data-quality flag (DESIGN §5) as a row a person can act on. issue_id is stable: the
-- same problem found again on a rerun is the same row, and detected_at keeps the time it
-- was first found (int_dq_issues_first_seen, state kept by dbt across runs).
with

issues as (
    select * from {{ ref('int_dq_issues_identified') }}
),

first_seen as (
    select * from {{ ref('int_dq_issues_first_seen') }}
),

final as (
    select
        issues.issue_id,
        issues.check_id,
        issues.severity,
        issues.unit_code,
        issues.province_code,
        issues.day,
        issues.observed,
        issues.expected,
        issues.message,
        issues.source_file,
        issues.source_row_number,
        issues.column_name,
        coalesce(
            first_seen.detected_at,
            cast('{{ run_var("run_started_at") }}' as timestamptz)
        ) as detected_at,
    from issues
    left join first_seen on issues.issue_id = first_seen.issue_id
)

select * from final
