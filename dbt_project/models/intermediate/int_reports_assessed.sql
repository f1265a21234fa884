-- Each registry unit on each report day: on time, late or missing (DHIS2 definitions with a
-- time-of-day deadline). Timeliness is decided by the first submission; the figures are
-- the latest submission's. status_at_deadline is the state as it stood at the deadline.
with

expected as (
    select * from {{ ref('int_reports_expected') }}
),

submissions as (
    select * from {{ ref('int_reports_ranked') }}
),

per_unit_day as (
    select
        unit_code,
        report_date,
        count(*) as submissions_count,
        min(submitted_at) as first_submitted_at,
        max(submitted_at) as last_submitted_at,
        count(distinct [installs_reported, staff_total, staff_installed])
            as distinct_figures_count,
    from submissions
    group by all
),

latest as (
    select * from submissions
    where is_latest
),

joined as (
    select
        expected.*,
        per_unit_day.first_submitted_at as submitted_at,
        per_unit_day.last_submitted_at,
        coalesce(per_unit_day.submissions_count, 0) as submissions_count,
        coalesce(per_unit_day.distinct_figures_count, 0) as distinct_figures_count,
        latest.installs_reported,
        latest.staff_total,
        latest.staff_installed,
        latest.households_visited,
        latest.source_file,
    from expected
    left join per_unit_day
        on
            expected.unit_code = per_unit_day.unit_code
            and expected.report_date = per_unit_day.report_date
    left join latest
        on
            expected.unit_code = latest.unit_code
            and expected.report_date = latest.report_date
),

final as (
    select
        report_date,
        unit_code,
        unit_name,
        unit_kind,
        province_code,
        district_code,
        deadline_local,
        deadline_at,
        timezone('{{ var("local_tz") }}', deadline_at) as deadline_at_local,
        submitted_at,
        timezone('{{ var("local_tz") }}', submitted_at) as submitted_at_local,
        last_submitted_at,
        case
            when submitted_at is null then 'missing'
            when submitted_at <= deadline_at then 'on_time'
            else 'late'
        end as status,
        case
            when submitted_at <= deadline_at then 'on_time'
            else 'missing'
        end as status_at_deadline,
        case
            when submitted_at > deadline_at
                then cast(ceil(epoch(submitted_at - deadline_at) / 60) as integer)
        end as minutes_late,
        submissions_count,
        distinct_figures_count > 1 as has_conflicting_resubmissions,
        installs_reported,
        staff_total,
        staff_installed,
        households_visited,
        source_file,
    from joined
)

select * from final
