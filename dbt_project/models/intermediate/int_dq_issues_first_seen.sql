{{
    config(
        materialized='incremental',
        unique_key='issue_id',
        incremental_strategy='delete+insert',
        full_refresh=false,
        schema='ops',
        alias='dq_first_seen',
    )
}}

-- When, and by which run, each data-quality issue_id was first detected: state kept across
-- runs (ops.dq_first_seen). A run adds the issues it is the first to find, stamped with its
-- start (var run_started_at) and id (var run_id); an issue already known keeps its row.
-- full_refresh=false: a --full-refresh rebuild of the marts keeps every first detection.
with

issues as (
    select * from {{ ref('int_dq_issues_identified') }}
),

new_issues as (
    select issue_id from issues
    {% if is_incremental() %}
        where issue_id not in (select seen.issue_id from {{ this }} as seen)
    {% endif %}
),

final as (
    select
        issue_id,
        cast('{{ run_var("run_started_at") }}' as timestamptz) as detected_at,
        '{{ run_var("run_id") | replace("'", "''") }}' as run_id,
    from new_issues
)

select * from final
