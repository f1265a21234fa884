with

rate_rows as (
    select * from {{ ref('agg_reporting_rates') }}
),

compliance_rows as (
    select * from {{ ref('fct_reporting_compliance') }}
),

rates as (
    select
        report_date,
        count(*) filter (where scope_level = 'nation') as nation_rows,
        count(*) filter (where scope_level = 'province') as province_rows,
        cast(
            coalesce(sum(expected_reports) filter (where scope_level = 'nation'), 0) as bigint
        ) as nation_expected_reports,
        cast(
            coalesce(sum(expected_reports) filter (where scope_level = 'province'), 0) as bigint
        ) as province_expected_reports,
    from rate_rows
    group by report_date
),

compliance as (
    select
        report_date,
        count(*) as compliance_rows,
        count(distinct province_code) as compliance_provinces,
    from compliance_rows
    group by report_date
),

{%- set run_day = "cast('" ~ run_var('run_date') ~ "' as date)" %}

days as (
    {{ calendar_days('min(report_date)', run_day, 'rates', 'report_date') }}
),

final as (
    select
        days.report_date,
        coalesce(rates.nation_rows, 0) as nation_rows,
        coalesce(rates.province_rows, 0) as province_rows,
        coalesce(rates.nation_expected_reports, 0) as nation_expected_reports,
        coalesce(rates.province_expected_reports, 0) as province_expected_reports,
        coalesce(compliance.compliance_rows, 0) as compliance_rows,
        coalesce(compliance.compliance_provinces, 0) as compliance_provinces,
    from days
    left join rates on days.report_date = rates.report_date
    left join compliance on days.report_date = compliance.report_date
)

select * from final
