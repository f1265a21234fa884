-- Every valid submission of a unit report up to the run date, ranked within its unit and
-- day: the latest submission's figures win, the first decides timeliness.
with

submissions as (
    select * from {{ ref('stg_raw__unit_reports') }}
),

ranked as (
    select
        report_date,
        unit_code,
        submitted_at,
        submitted_at_local,
        submitted_at_source,
        installs_reported,
        staff_total,
        staff_installed,
        households_visited,
        match_method,
        source_file,
        source_row_number,
        arrived_at,
        row_number() over (
            partition by unit_code, report_date
            order by submitted_at desc, arrived_at desc, source_file desc, source_row_number desc
        ) = 1 as is_latest,
        row_number() over (
            partition by unit_code, report_date
            order by submitted_at, arrived_at, source_file, source_row_number
        ) = 1 as is_first,
    from submissions
    where report_date <= cast('{{ var("run_date") }}' as date)
)

select * from ranked
