{{ config(unique_key=['snapshot_date', 'province_code'], event_time='snapshot_date') }}

-- The campaign's province figures on the 34 provinces in force since 1 July 2025 (DESIGN §9).
-- Exact: every 2020 province lies wholly in one 2025 province, so a 2025 province's installs
-- and denominators are the sums of its 2020 provinces'.
with

provinces_2020 as (
    select * from {{ ref('fct_coverage_daily') }}
    where
        level = 'province'
        -- a campaign on the 2025 units has no 2020 figures to carry: this mart stays empty
        -- and its own fct_coverage_daily is on the 34 provinces
        and {{ 'false' if unit_set().get('carried_from') else 'true' }}
),

crosswalk as (
    select * from {{ ref('stg_seeds__province_crosswalk') }}
),

provinces_2025 as (
    select * from {{ ref('stg_seeds__provinces_2025') }}
),

expected as (
    select
        province_code_2025,
        count(*) as provinces_2020_expected,
    from crosswalk
    group by province_code_2025
),

summed as (
    select
        provinces_2020.snapshot_date,
        crosswalk.province_code_2025 as province_code,
        sum(provinces_2020.installs) as installs,
        -- a figure some of the 2020 provinces lack is not summed from the others
        case
            when count(provinces_2020.installs_with_phone) = count(*)
                then sum(provinces_2020.installs_with_phone)
        end as installs_with_phone,
        case
            when count(provinces_2020.new_installs) = count(*)
                then sum(provinces_2020.new_installs)
        end as new_installs,
        count(*) as provinces_2020_included,
        string_agg(provinces_2020.unit_code, ';' order by provinces_2020.unit_code)
            as province_codes_2020,
        bool_or(provinces_2020.is_estimated) as is_estimated,
        bool_and(provinces_2020.is_complete) as provinces_2020_complete,
        sum(provinces_2020.denominator_population_total) as denominator_population_total,
        sum(provinces_2020.denominator_population_15plus) as denominator_population_15plus,
        sum(provinces_2020.denominator_population_18plus) as denominator_population_18plus,
        sum(provinces_2020.denominator_smartphone_owners) as denominator_smartphone_owners,
        any_value(provinces_2020.denominator_vintage) as denominator_vintage,
        any_value(provinces_2020.smartphone_owners_vintage) as smartphone_owners_vintage,
    from provinces_2020
    inner join crosswalk
        on provinces_2020.unit_code = crosswalk.province_code_2020
    group by provinces_2020.snapshot_date, crosswalk.province_code_2025
),

final as (
    select
        summed.snapshot_date,
        summed.province_code,
        provinces_2025.province_name_full as province_name,
        summed.installs,
        summed.installs_with_phone,
        summed.new_installs,
        summed.installs / nullif(summed.denominator_population_total, 0) as coverage_population,
        summed.installs / nullif(summed.denominator_population_15plus, 0)
            as coverage_adults_15plus,
        summed.installs / nullif(summed.denominator_population_18plus, 0)
            as coverage_adults_18plus,
        summed.installs / nullif(summed.denominator_smartphone_owners, 0)
            as coverage_smartphone_owners,
        rank() over (
            partition by summed.snapshot_date
            order by
                summed.installs / nullif(summed.denominator_population_total, 0) desc nulls last
        ) as rank_by_coverage,
        rank() over (partition by summed.snapshot_date order by summed.installs desc)
            as rank_by_installs,
        count(*) over (partition by summed.snapshot_date) as provinces_ranked,
        summed.province_codes_2020,
        summed.provinces_2020_included,
        expected.provinces_2020_expected,
        summed.provinces_2020_included = expected.provinces_2020_expected
        and summed.provinces_2020_complete as is_complete,
        summed.is_estimated,
        summed.denominator_population_total,
        summed.denominator_population_15plus,
        summed.denominator_population_18plus,
        summed.denominator_smartphone_owners,
        summed.denominator_vintage,
        summed.smartphone_owners_vintage,
    from summed
    inner join expected
        on summed.province_code = expected.province_code_2025
    inner join provinces_2025
        on summed.province_code = provinces_2025.province_code
)

select * from final
{{ rebuild_window() }}
