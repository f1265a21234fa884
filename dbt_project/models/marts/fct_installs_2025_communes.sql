{{ config(unique_key=['snapshot_date', 'commune_code'], event_time='snapshot_date') }}

-- The commune-level export's installs on the 3,321 communes in force since 1 July 2025
-- (DESIGN §9), through the crosswalk: a 2020 commune that went whole into a 2025 commune
-- gives it all its installs (exact); one split among n successors gives each 1/n of them
-- (an estimate, flagged). Communes made of no 2020 commune (the đặc khu formed from districts
-- without communes) have no row.
with

communes_2020 as (
    select * from {{ ref('fct_commune_installs_daily') }}
    -- a campaign on the 2025 units has no 2020 communes to carry: this mart stays empty and
    -- its own communes are in fct_coverage_daily and fct_commune_installs_daily
    where
        {{ 'false' if unit_set().get('carried_from') else 'true' }}
        and {{ in_rebuild_window('snapshot_date') }}
),

crosswalk as (
    select * from {{ ref('stg_seeds__commune_crosswalk') }}
),

communes_2025 as (
    select * from {{ ref('stg_seeds__communes_2025') }}
),

expected as (
    select
        commune_code_2025,
        count(*) as communes_2020_expected,
    from crosswalk
    group by commune_code_2025
),

linked as (
    select
        communes_2020.snapshot_date,
        crosswalk.commune_code_2025,
        crosswalk.kind,
        crosswalk.population_share,
        communes_2020.commune_code as commune_code_2020,
        communes_2020.installs,
        communes_2020.installs_with_phone,
        communes_2020.new_installs,
    from communes_2020
    inner join crosswalk
        on communes_2020.commune_code = crosswalk.commune_code_2020
),

-- Shares are summed in the order of the 2020 codes: a sum of fractions in whatever order
-- the engine's threads meet them can differ in its last digit from one run to the next.
summed as (
    select
        snapshot_date,
        commune_code_2025 as commune_code,
        sum(installs * population_share order by commune_code_2020) as installs,
        coalesce(sum(installs) filter (where kind != 'part'), 0) as installs_whole,
        coalesce(
            sum(installs * population_share order by commune_code_2020)
            filter (where kind = 'part'),
            0.0
        ) as installs_shared,
        case
            when count(installs_with_phone) = count(*)
                then sum(installs_with_phone * population_share order by commune_code_2020)
        end as installs_with_phone,
        case
            when count(new_installs) = count(*)
                then sum(new_installs * population_share order by commune_code_2020)
        end as new_installs,
        count(*) as communes_2020_included,
        bool_or(kind = 'part') as is_estimated,
    from linked
    group by snapshot_date, commune_code_2025
),

final as (
    select
        summed.snapshot_date,
        summed.commune_code,
        communes_2025.commune_name_full as commune_name,
        communes_2025.commune_type,
        communes_2025.province_code,
        summed.installs,
        summed.installs_whole,
        summed.installs_shared,
        summed.installs_with_phone,
        summed.new_installs,
        summed.is_estimated,
        summed.communes_2020_included,
        expected.communes_2020_expected,
        summed.communes_2020_included = expected.communes_2020_expected as is_complete,
        communes_2025.population_total_est,
        summed.installs / nullif(communes_2025.population_total_est, 0) as coverage_population_est,
    from summed
    inner join expected
        on summed.commune_code = expected.commune_code_2025
    inner join communes_2025
        on summed.commune_code = communes_2025.commune_code
)

select * from final
{{ rebuild_window() }}
