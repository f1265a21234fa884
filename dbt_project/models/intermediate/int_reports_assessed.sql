-- Each registry unit on each report day, from its deliveries (DESIGN §4): the final status
-- (on_time, late, missing, rejected), the status as it stood at the deadline and at the
-- escalation, timeliness decided by the first accepted delivery sent, and the figures of the
-- latest sent (a delivery repeating earlier content is sent when it arrives, so it counts as
-- the latest).
with

expected as (
    select * from {{ ref('int_reports_expected') }}
),

deliveries as (
    select * from {{ ref('int_report_deliveries_resolved') }}
    where unit_code is not null
),

ranked as (
    select
        deliveries.*,
        -- deliveries in the order they were sent (then received): the first decides
        -- timeliness, the latest gives the figures
        row_number() over (
            partition by deliveries.unit_code, deliveries.report_date, deliveries.is_accepted
            order by
                deliveries.sent_at, deliveries.received_at, deliveries.source_file,
                deliveries.file_id
        ) as sending_rank,
        row_number() over (
            partition by deliveries.unit_code, deliveries.report_date, deliveries.is_accepted
            order by
                deliveries.sent_at desc, deliveries.received_at desc,
                deliveries.source_file desc, deliveries.file_id desc
        ) as recency_rank,
    from deliveries
),

per_unit_day as (
    select
        unit_code,
        report_date,
        count(*) as deliveries_count,
        count(*) filter (is_accepted) as submissions_count,
        count(distinct [installs_reported, staff_total, staff_installed])
        filter (is_accepted) as distinct_figures_count,
        min(received_at) as first_received_at,
        min(received_at) filter (is_accepted) as first_accepted_received_at,
        any_value(sent_at) filter (is_accepted and sending_rank = 1) as first_sent_at,
        any_value(sent_at) filter (is_accepted and recency_rank = 1) as last_sent_at,
        any_value(reason) filter (not is_accepted and recency_rank = 1) as rejection_reason,
        any_value(source_file) filter (not is_accepted and recency_rank = 1)
            as rejected_source_file,
    from ranked
    group by all
),

latest as (
    select * from ranked
    where is_accepted and recency_rank = 1
),

joined as (
    select
        expected.*,
        expected.deadline_at
        + to_minutes(cast({{ run_var("escalation_after_minutes") }} as bigint)) as escalation_at,
        per_unit_day.first_received_at,
        per_unit_day.first_accepted_received_at,
        per_unit_day.first_sent_at,
        per_unit_day.last_sent_at,
        per_unit_day.rejection_reason,
        per_unit_day.rejected_source_file,
        coalesce(per_unit_day.deliveries_count, 0) as deliveries_count,
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

assessed as (
    select
        *,
        {{ report_status() }} as status,
        {{ report_status('deadline_at') }} as status_at_deadline,
        {{ report_status('escalation_at') }} as status_at_escalation,
    from joined
),

final as (
    select
        report_date,
        unit_code,
        unit_name,
        unit_kind,
        province_code,
        district_code,
        area_code,
        deadline_local,
        deadline_at,
        timezone('{{ var("local_tz") }}', deadline_at) as deadline_at_local,
        escalation_at,
        first_sent_at as submitted_at,
        timezone('{{ var("local_tz") }}', first_sent_at) as submitted_at_local,
        last_sent_at as last_submitted_at,
        first_received_at,
        status,
        status_at_deadline,
        status_at_escalation,
        case
            when status = 'late'
                then cast(ceil(epoch(first_sent_at - deadline_at) / 60) as integer)
        end as minutes_late,
        submissions_count,
        deliveries_count,
        distinct_figures_count > 1 as has_conflicting_resubmissions,
        case when status = 'rejected' then rejection_reason end as rejection_reason,
        case when status = 'rejected' then rejected_source_file end as rejected_source_file,
        installs_reported,
        staff_total,
        staff_installed,
        households_visited,
        source_file,
    from assessed
)

select * from final
