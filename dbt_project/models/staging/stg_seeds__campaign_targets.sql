-- The campaign targets of the provincial letters, from the seed the unit set names
-- (seeds/campaign_targets.csv for 2020, campaign_targets_2025.csv).
with

targets as (
    select * from {{ unit_seed('targets') }}
),

renamed as (
    select
        target_id,
        scope_code,
        scope_level,
        metric,
        threshold,
        start_date,
        due_date,
        nullif(any_of_group, '') as any_of_group,
        description,
    from targets
)

select * from renamed
