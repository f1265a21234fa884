{{ config(unique_key=['report_date', 'unit_code'], event_time='report_date') }}

-- The provincial consolidation (DESIGN §3.5): per province and report day, every reporting
-- unit with the figure it reported, the ministry's figure for its area (its district in
-- 2020, its commune in 2025: the unit set's area level) from the latest export up to that
-- day, the coverage of its area's population, when it sent and its status, as of the run
-- that built it. The deadline runs write it out as XLSX and HTML.
with

compliance as (
    select * from {{ ref('fct_reporting_compliance') }}
),

exports as (
    select * from {{ ref('int_install_figures_daily') }}
    where level = '{{ area_level() }}'
),

areas as (
    select * from {{ ref('int_admin_units_unioned') }}
    where level = '{{ area_level() }}'
),

-- a committee's area in the latest export up to the report day
latest_export as (
    select
        compliance.report_date,
        compliance.unit_code,
        exports.installs,
        exports.snapshot_date,
    from compliance
    inner join exports
        on
            compliance.area_code = exports.unit_code
            and compliance.report_date >= exports.snapshot_date
    qualify
        row_number() over (
            partition by compliance.report_date, compliance.unit_code
            order by exports.snapshot_date desc
        ) = 1
),

final as (
    select
        compliance.report_date,
        compliance.province_code,
        compliance.unit_code,
        compliance.unit_name,
        compliance.unit_kind,
        compliance.district_code,
        compliance.area_code,
        compliance.deadline_local,
        compliance.installs_reported,
        latest_export.installs as installs_export,
        latest_export.snapshot_date as export_day,
        compliance.installs_reported / nullif(areas.population_total, 0)
            as coverage_population,
        compliance.submitted_at_local as sent_at_local,
        compliance.status,
        compliance.rejection_reason,
        timezone('{{ var("local_tz") }}', cast('{{ run_var("as_of") }}' as timestamptz))
            as as_of_local,
    from compliance
    left join latest_export
        on
            compliance.report_date = latest_export.report_date
            and compliance.unit_code = latest_export.unit_code
    left join areas on compliance.area_code = areas.unit_code
)

select * from final
{{ rebuild_window() }}
