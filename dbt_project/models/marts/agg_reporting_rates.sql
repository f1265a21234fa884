{{ config(unique_key=['report_date', 'scope_code'], event_time='report_date') }}

-- Reporting and on-time rates per province and for the nation, per report day, with the WHO
-- data-quality thresholds (completeness >= 90 %, timeliness >= 75 %).
with

compliance as (
    select * from {{ ref('fct_reporting_compliance') }}
),

by_province as (
    select
        report_date,
        province_code as scope_code,
        'province' as scope_level,
        count(*) as expected_reports,
        count(*) filter (status in ('on_time', 'late')) as actual_reports,
        count(*) filter (status = 'on_time') as on_time_reports,
        count(*) filter (status = 'late') as late_reports,
        count(*) filter (status = 'rejected') as rejected_reports,
        count(*) filter (status_at_deadline = 'on_time') as reports_at_deadline,
    from compliance
    group by all
),

by_nation as (
    select
        report_date,
        'VN' as scope_code,
        'nation' as scope_level,
        sum(expected_reports) as expected_reports,
        sum(actual_reports) as actual_reports,
        sum(on_time_reports) as on_time_reports,
        sum(late_reports) as late_reports,
        sum(rejected_reports) as rejected_reports,
        sum(reports_at_deadline) as reports_at_deadline,
    from by_province
    group by all
),

unioned as (
    select * from by_province
    union all
    select * from by_nation
),

final as (
    select
        report_date,
        scope_code,
        scope_level,
        expected_reports,
        actual_reports,
        on_time_reports,
        late_reports,
        expected_reports - actual_reports as missing_reports,
        rejected_reports,
        actual_reports / nullif(expected_reports, 0) as reporting_rate,
        on_time_reports / nullif(expected_reports, 0) as on_time_rate,
        reports_at_deadline / nullif(expected_reports, 0) as reporting_rate_at_deadline,
        coalesce(actual_reports / nullif(expected_reports, 0) >= 0.9, false)
            as meets_completeness_threshold,
        coalesce(on_time_reports / nullif(expected_reports, 0) >= 0.75, false)
            as meets_timeliness_threshold,
    from unioned
)

select * from final
{{ rebuild_window() }}
