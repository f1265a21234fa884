{{ config(unique_key=['snapshot_date', 'target_id'], event_time='snapshot_date') }}

-- Progress toward every campaign target on every snapshot day from its start: current
-- value, the gap in installs, days left, installs per day needed, the date the target is
-- reached at the current 7-day pace (null when the pace is not positive), on-track and met.
-- Share targets compare coverage with the threshold; rank targets compare the scope's rank
-- by installs, and their gap and pace are measured against the province holding that rank.
with

targets as (
    select * from {{ ref('stg_seeds__campaign_targets') }}
),

coverage as (
    select * from {{ ref('fct_coverage_daily') }}
),

ranking as (
    select * from {{ ref('fct_province_ranking') }}
),

share_targets as (
    select
        coverage.snapshot_date,
        targets.target_id,
        targets.scope_code,
        targets.metric,
        targets.threshold,
        targets.start_date,
        targets.due_date,
        targets.any_of_group,
        coverage.installs,
        coverage.new_installs_7d_avg as pace,
        case targets.metric
            when 'share_population' then coverage.coverage_population
            when 'share_adults_15plus' then coverage.coverage_adults_15plus
            when 'share_adults_18plus' then coverage.coverage_adults_18plus
            when 'share_smartphone_owners' then coverage.coverage_smartphone_owners
        end as current_value,
        -- the same denominator as current_value: for an incomplete nation or region, the
        -- provinces it includes that day (fct_coverage_daily.is_complete says so)
        ceil(targets.threshold * case targets.metric
            when 'share_population' then coverage.denominator_population_total
            when 'share_adults_15plus' then coverage.denominator_population_15plus
            when 'share_adults_18plus' then coverage.denominator_population_18plus
            when 'share_smartphone_owners' then coverage.denominator_smartphone_owners
        end) as target_installs,
        cast(null as double) as competitor_pace,
    from targets
    inner join coverage
        on
            targets.scope_code = coverage.unit_code
            and targets.scope_level = coverage.level
            and targets.start_date <= coverage.snapshot_date
    where targets.metric like 'share_%'
),

rank_holders as (
    -- the installs and pace of the province at each rank, to measure a rank target against
    select
        snapshot_date,
        rank_by_installs,
        max(installs) as installs,
        max(new_installs_7d_avg) as pace,
    from ranking
    group by all
),

rank_targets as (
    select
        ranking.snapshot_date,
        targets.target_id,
        targets.scope_code,
        targets.metric,
        targets.threshold,
        targets.start_date,
        targets.due_date,
        targets.any_of_group,
        ranking.installs,
        ranking.new_installs_7d_avg as pace,
        cast(ranking.rank_by_installs as double) as current_value,
        case
            when ranking.rank_by_installs <= targets.threshold then ranking.installs
            else rank_holders.installs + 1
        end as target_installs,
        rank_holders.pace as competitor_pace,
    from targets
    inner join ranking
        on
            targets.scope_code = ranking.province_code
            and targets.start_date <= ranking.snapshot_date
    left join rank_holders
        on
            ranking.snapshot_date = rank_holders.snapshot_date
            and rank_holders.rank_by_installs = (
                select max(holders.rank_by_installs)
                from rank_holders as holders
                where
                    holders.snapshot_date = ranking.snapshot_date
                    and holders.rank_by_installs <= targets.threshold
            )
    where targets.metric = 'rank_by_installs'
),

unioned as (
    select * from share_targets
    union all by name
    select * from rank_targets
),

measured as (
    select
        *,
        case
            when metric = 'rank_by_installs' then current_value <= threshold
            else current_value >= threshold
        end as is_met,
        greatest(target_installs - installs, 0) as gap_installs,
        date_diff('day', snapshot_date, due_date) as days_left,
        pace - coalesce(competitor_pace, 0) as closing_pace,
    from unioned
),

projected as (
    select
        *,
        case
            when gap_installs = 0 then snapshot_date
            when closing_pace > 0
                then cast(
                    snapshot_date
                    + to_days(cast(ceil(gap_installs / closing_pace) as integer)) as date
                )
        end as projected_date,
    from measured
),

final as (
    select
        snapshot_date,
        target_id,
        scope_code,
        metric,
        threshold,
        due_date,
        any_of_group,
        current_value,
        installs,
        target_installs,
        gap_installs,
        days_left,
        case
            when gap_installs = 0 then 0
            when days_left > 0 then gap_installs / days_left
        end as needed_per_day,
        pace as pace_7d_avg,
        projected_date,
        is_met,
        -- true once met, even after the due date: nothing more is needed
        coalesce(is_met, false) or coalesce(projected_date <= due_date, false) as is_on_track,
        bool_or(is_met) over (
            partition by coalesce(any_of_group, target_id), snapshot_date
        ) as is_group_met,
    from projected
)

select * from final
{{ rebuild_window() }}
