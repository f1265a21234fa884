-- Flags raised at ingestion: quarantined files and rows (malformed_file, unknown_unit,
-- out_of_range_date), each with the file, row, column and reason, and the severity the
-- check catalogue (var dq_checks) gives its check.
with

rejected as (
    select * from {{ ref('stg_raw__rejected_rows') }}
),

final as (
    select
        check_id,
        case check_id
            {%- for catalogued_check in var('dq_checks') %}
                when '{{ catalogued_check }}' then {{ dq_severity(catalogued_check) }}
            {%- endfor %}
        end as severity,
        unit_code,
        province_code,
        day,
        raw_value as observed,
        case check_id
            when 'unknown_unit' then 'a registry unit'
            when 'code_name_mismatch' then 'a code and a name of the same unit'
            when 'out_of_range_date' then 'a day in the campaign, not after the send date'
            else 'a readable value'
        end as expected,
        source_file
        || coalesce(', row ' || source_row_number, '')
        || coalesce(', column ' || column_name, '')
        || ': ' || reason as message,
        source_file,
        source_row_number,
        column_name,
    from rejected
)

select * from final
