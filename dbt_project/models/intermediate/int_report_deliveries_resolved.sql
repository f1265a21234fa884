-- Every delivery of a unit report, one row per unit and report day it concerns (DESIGN §3.3,
-- §4): what it carried (a duplicate delivery carries the rows of the content it repeats),
-- when it was received, when it was sent (the earlier of the time it claims and its arrival;
-- for a duplicate, its arrival) and its outcome. A delivery from which no unit can be read
-- at all is one row without a unit.
with

deliveries as (
    select * from {{ ref('stg_raw__landing_files') }}
    where source = 'reports'
),

report_rows as (
    select * from {{ ref('stg_raw__unit_reports') }}
),

rejected_rows as (
    select
        *,
        coalesce(message, reason) as sender_message,
    from {{ ref('stg_raw__rejected_rows') }}
    where source = 'reports'
),

-- A duplicate delivery repeats its content's rows (and its content's rejections).
delivered_rows as (
    select
        deliveries.file_id,
        deliveries.source_file,
        deliveries.received_at,
        deliveries.status,
        report_rows.unit_code,
        report_rows.report_date,
        report_rows.submitted_at,
        report_rows.submitted_at_source,
        report_rows.installs_reported,
        report_rows.staff_total,
        report_rows.staff_installed,
        report_rows.households_visited,
        report_rows.match_method,
        report_rows.source_row_number,
        row_number() over (
            partition by deliveries.file_id, report_rows.unit_code, report_rows.report_date
            order by report_rows.source_row_number desc
        ) as row_rank,
    from deliveries
    inner join report_rows
        on report_rows.file_id = coalesce(deliveries.content_file_id, deliveries.file_id)
),

accepted as (
    select
        file_id,
        source_file,
        received_at,
        unit_code,
        report_date,
        case when submitted_at_source = 'column' then submitted_at end as claimed_at,
        -- a duplicate's claim belongs to the content it repeats: it was sent when it came
        case
            when submitted_at_source = 'column' and status <> 'duplicate'
                then least(submitted_at, received_at)
            else received_at
        end as sent_at,
        case when status = 'duplicate' then 'duplicate_content' else 'accepted' end as outcome,
        cast(null as varchar) as reason,
        installs_reported,
        staff_total,
        staff_installed,
        households_visited,
        match_method,
        source_row_number,
    from delivered_rows
    -- the last row of a file for a unit and day is the one it means
    where row_rank = 1
),

rejected_unit_days as (
    select
        deliveries.file_id,
        deliveries.source_file,
        deliveries.received_at,
        rejected_rows.unit_code,
        -- a row dated outside the campaign or after it was sent (or with no readable date)
        -- is about no day the unit owes: the delivery is the unit's, but counts for no day
        case when rejected_rows.check_id <> 'out_of_range_date' then rejected_rows.day end
            as report_date,
        string_agg(
            distinct rejected_rows.sender_message, '; ' order by rejected_rows.sender_message
        ) as reason,
        min(rejected_rows.source_row_number) as source_row_number,
    from deliveries
    inner join rejected_rows
        on rejected_rows.file_id = coalesce(deliveries.content_file_id, deliveries.file_id)
    where rejected_rows.unit_code is not null
    group by all
),

rejected as (
    select
        rejected_unit_days.file_id,
        rejected_unit_days.source_file,
        rejected_unit_days.received_at,
        rejected_unit_days.unit_code,
        rejected_unit_days.report_date,
        rejected_unit_days.received_at as sent_at,
        'rejected' as outcome,
        rejected_unit_days.reason,
        rejected_unit_days.source_row_number,
    from rejected_unit_days
    -- a unit and day with an accepted row in the same delivery is accepted
    anti join accepted
        on
            rejected_unit_days.file_id = accepted.file_id
            and rejected_unit_days.unit_code = accepted.unit_code
            and rejected_unit_days.report_date is not distinct from accepted.report_date
),

file_messages as (
    select
        file_id,
        string_agg(distinct sender_message, '; ' order by sender_message) as reason,
    from rejected_rows
    group by file_id
),

unattributed as (
    select
        deliveries.file_id,
        deliveries.source_file,
        deliveries.received_at,
        deliveries.received_at as sent_at,
        'rejected' as outcome,
        coalesce(file_messages.reason, deliveries.reason, deliveries.status) as reason,
    from deliveries
    left join file_messages on deliveries.file_id = file_messages.file_id
    where
        deliveries.file_id not in (select accepted.file_id from accepted)
        and deliveries.file_id not in (select rejected.file_id from rejected)
),

-- by name: what a rejected delivery has no value for (figures, claim, unit) is null
unioned as (
    select * from accepted
    union all by name
    select * from rejected
    union all by name
    select * from unattributed
),

final as (
    select
        file_id,
        source_file,
        received_at,
        timezone('{{ var("local_tz") }}', received_at) as received_at_local,
        claimed_at,
        sent_at,
        timezone('{{ var("local_tz") }}', sent_at) as sent_at_local,
        unit_code,
        report_date,
        outcome,
        outcome in ('accepted', 'duplicate_content') as is_accepted,
        reason,
        installs_reported,
        staff_total,
        staff_installed,
        households_visited,
        match_method,
        source_row_number,
    from unioned
    where
        coalesce(report_date, cast(timezone('{{ var("local_tz") }}', received_at) as date))
        <= cast('{{ run_var("run_date") }}' as date)
)

select * from final
