with

progress_rows as (
    select * from {{ ref('fct_target_progress') }}
),

targets as (
    select * from {{ ref('stg_seeds__campaign_targets') }}
),

progress as (
    select
        snapshot_date,
        count(*) as row_count,
    from progress_rows
    group by snapshot_date
),

days as (
    {{ calendar_days('min(snapshot_date)', 'max(snapshot_date)', 'progress', 'snapshot_date') }}
),

final as (
    select
        days.snapshot_date,
        coalesce(progress.row_count, 0) as row_count,
        (
            select count(*) from targets
            where targets.start_date <= days.snapshot_date
        ) as targets_started,
    from days
    left join progress on days.snapshot_date = progress.snapshot_date
)

select * from final
