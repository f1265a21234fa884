-- The campaign targets of the provincial letters (seeds/campaign_targets.csv).
with

targets as (
    select * from {{ ref('campaign_targets') }}
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
