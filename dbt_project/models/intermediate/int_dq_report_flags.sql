-- Flags about unit reports: missing, rejected, late, conflicting resubmissions, staff
-- installed over staff total, and reported installs that disagree with the export.
with

compliance as (
    select * from {{ ref('int_reports_assessed') }}
),

submissions as (
    -- each accepted delivery's figures once (a duplicate delivery repeats them)
    select * from {{ ref('int_report_deliveries_resolved') }}
    where outcome = 'accepted'
),

exports as (
    -- the figures of the units committees report for (the unit set's area level)
    select * from {{ ref('int_install_figures_daily') }}
    where level = '{{ area_level() }}'
),

missing as (
    select
        'missing_report' as check_id,
        '{{ var("dq_missing_report_severity") }}' as severity,
        unit_code,
        province_code,
        report_date as day,
        'no report' as observed,
        'a report by ' || deadline_local as expected,
        unit_name || ' has sent no report for ' || strftime(report_date, '%d/%m/%Y')
        || ' (deadline ' || deadline_local || ')' as message,
        cast(null as varchar) as source_file,
    from compliance
    where status = 'missing'
),

rejected as (
    select
        'report_rejected' as check_id,
        {{ dq_severity('report_rejected') }} as severity,
        unit_code,
        province_code,
        report_date as day,
        deliveries_count || ' rejected deliveries' as observed,
        'an accepted report by ' || deadline_local as expected,
        unit_name || ' sent ' || deliveries_count || ' report(s) for '
        || strftime(report_date, '%d/%m/%Y')
        || ' but none could be accepted: ' || coalesce(rejection_reason, 'see the receipt')
            as message,
        rejected_source_file as source_file,
    from compliance
    where status = 'rejected'
),

late as (
    select
        'late_report' as check_id,
        {{ dq_severity('late_report') }} as severity,
        unit_code,
        province_code,
        report_date as day,
        strftime(submitted_at_local, '%Y-%m-%d %H:%M:%S') as observed,
        'by ' || strftime(deadline_at_local, '%Y-%m-%d %H:%M') as expected,
        unit_name || ' reported for ' || strftime(report_date, '%d/%m/%Y') || ' '
        || minutes_late || ' minutes after its ' || deadline_local || ' deadline' as message,
        source_file,
    from compliance
    where status = 'late'
),

conflicting as (
    select
        'conflicting_resubmission' as check_id,
        {{ dq_severity('conflicting_resubmission') }} as severity,
        unit_code,
        province_code,
        report_date as day,
        submissions_count || ' submissions with different figures' as observed,
        'one set of figures' as expected,
        unit_name || ' sent ' || submissions_count || ' reports for '
        || strftime(report_date, '%d/%m/%Y')
        || ' with different figures; the latest is used: check which is right' as message,
        source_file,
    from compliance
    where has_conflicting_resubmissions
),

staff_over_total as (
    select
        'staff_installed_exceeds_total' as check_id,
        {{ dq_severity('staff_installed_exceeds_total') }} as severity,
        submissions.unit_code,
        compliance.province_code,
        submissions.report_date as day,
        cast(submissions.staff_installed as varchar) as observed,
        '<= ' || submissions.staff_total as expected,
        compliance.unit_name || ' reports ' || submissions.staff_installed
        || ' staff installed out of ' || submissions.staff_total || ' staff on '
        || strftime(submissions.report_date, '%d/%m/%Y') as message,
        submissions.source_file,
    from submissions
    inner join compliance
        on
            submissions.unit_code = compliance.unit_code
            and submissions.report_date = compliance.report_date
    where submissions.staff_installed > submissions.staff_total
),

mismatch as (
    select
        'report_export_mismatch' as check_id,
        {{ dq_severity('report_export_mismatch') }} as severity,
        compliance.unit_code,
        compliance.province_code,
        compliance.report_date as day,
        cast(compliance.installs_reported as varchar) as observed,
        cast(exports.installs as varchar) as expected,
        compliance.unit_name || ' reported ' || compliance.installs_reported
        || ' installs for ' || strftime(compliance.report_date, '%d/%m/%Y')
        || '; the ministry''s export says ' || exports.installs || ' ('
        || cast(round(
            100 * (compliance.installs_reported - exports.installs)
            / exports.installs, 1
        ) as varchar) || ' %)' as message,
        compliance.source_file,
    from compliance
    inner join exports
        on
            compliance.area_code = exports.unit_code
            and compliance.report_date = exports.snapshot_date
    where
        compliance.installs_reported is not null
        and exports.installs > 0
        and abs(compliance.installs_reported - exports.installs) / exports.installs
        > {{ var("dq_report_export_mismatch_max") }}
),

final as (
    select * from missing
    union all
    select * from rejected
    union all
    select * from late
    union all
    select * from conflicting
    union all
    select * from staff_over_total
    union all
    select * from mismatch
)

select * from final
