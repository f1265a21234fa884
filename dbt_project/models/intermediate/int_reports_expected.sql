-- One row per registry unit and report day it owes a report for, with its deadline.
with

units as (
    select * from {{ ref('stg_seeds__reporting_units') }}
),

bounds as (
    select
        min(reports_from) as first_day,
        cast('{{ run_var("run_date") }}' as date) as last_day,
    from units
),

calendar as (
    select
        cast(unnest(generate_series(bounds.first_day, bounds.last_day, interval 1 day)) as date)
            as report_date,
    from bounds
),

expected as (
    select
        calendar.report_date,
        units.unit_code,
        units.unit_name,
        units.unit_kind,
        units.province_code,
        units.district_code,
        units.area_code,
        units.deadline_local,
        timezone(
            '{{ var("local_tz") }}',
            calendar.report_date + cast(units.deadline_local as time)
        ) as deadline_at,
    from units
    inner join calendar
        on
            units.reports_from <= calendar.report_date
            and (units.reports_to is null or units.reports_to >= calendar.report_date)
)

select * from expected
