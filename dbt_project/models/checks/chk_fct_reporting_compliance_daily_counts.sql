with

compliance as (
    select * from {{ ref('fct_reporting_compliance') }}
),

reports_expected as (
    select * from {{ ref('int_reports_expected') }}
),

expected as (
    select
        report_date,
        count(*) as active_units,
    from reports_expected
    group by report_date
),

actual as (
    select
        report_date,
        count(*) as row_count,
    from compliance
    group by report_date
),

final as (
    select
        coalesce(expected.report_date, actual.report_date) as report_date,
        coalesce(actual.row_count, 0) as row_count,
        coalesce(expected.active_units, 0) as active_units,
    from expected
    full outer join actual on expected.report_date = actual.report_date
)

select * from final
