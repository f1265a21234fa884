{{
    config(
        unique_key=['file_id', 'unit_code', 'report_date'],
        event_time='report_date',
        meta={'rows_without_day': 'rebuilt'},
    )
}}

-- Every delivery of a unit report (DESIGN §3.3, §4.1): one row per file arrival and unit and
-- report day it concerns, with when it was received and sent and what became of it. The
-- days of the rebuild window, and the deliveries about no day (no unit or no date could be
-- read from them), are rebuilt by every run.
with

deliveries as (
    select * from {{ ref('int_report_deliveries_resolved') }}
),

units as (
    select * from {{ ref('stg_seeds__reporting_units') }}
),

final as (
    select
        deliveries.file_id,
        deliveries.received_at,
        deliveries.received_at_local,
        deliveries.sent_at,
        deliveries.sent_at_local,
        deliveries.claimed_at,
        deliveries.unit_code,
        units.province_code,
        deliveries.report_date,
        deliveries.source_file,
        deliveries.outcome,
        deliveries.reason,
        deliveries.installs_reported,
        deliveries.staff_total,
        deliveries.staff_installed,
        deliveries.households_visited,
    from deliveries
    left join units on deliveries.unit_code = units.unit_code
)

select * from final
{{ rebuild_window() }}
