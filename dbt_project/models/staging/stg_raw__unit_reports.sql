-- Every valid submission of a unit report, ranked within its unit and day.
with

source as (
    select * from {{ source('raw', 'unit_reports') }}
),

ranked as (
    select
        report_date,
        unit_code,
        submitted_at,
        timezone('{{ var("local_tz") }}', submitted_at) as submitted_at_local,
        submitted_at_source,
        installs_reported,
        staff_total,
        staff_installed,
        households_visited,
        match_method,
        source_file,
        row_number as source_row_number,
        arrived_at,
        row_number() over (
            partition by unit_code, report_date
            order by submitted_at desc, arrived_at desc, source_file desc, row_number desc
        ) = 1 as is_latest,
        row_number() over (
            partition by unit_code, report_date
            order by submitted_at, arrived_at, source_file, row_number
        ) = 1 as is_first,
    from source
    where report_date <= cast('{{ var("run_date") }}' as date)
)

select * from ranked
