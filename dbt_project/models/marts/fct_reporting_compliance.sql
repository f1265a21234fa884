{{ config(unique_key=['report_date', 'unit_code'], event_time='report_date') }}

-- Each registry unit on each report day: on time, late or missing, as known at the deadline
-- and finally, with the latest submission's figures (int_reports_assessed).
with

compliance as (
    select * from {{ ref('int_reports_assessed') }}
),

final as (
    select * from compliance
)

select * from final
{{ rebuild_window() }}
