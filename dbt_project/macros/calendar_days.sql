{#- Every day from first_day to last_day (SQL expressions over `source`), one row each,
    in a column named `day_column`: the spine a per-day count joins to, so a day with no
    rows is present and counts 0. -#}
{% macro calendar_days(first_day, last_day, source, day_column) -%}
select
    cast(
        unnest(generate_series(bounds.first_day, bounds.last_day, interval 1 day)) as date
    ) as {{ day_column }}
from (
    select
        {{ first_day }} as first_day,
        {{ last_day }} as last_day,
    from {{ source }}
) as bounds
{%- endmacro %}
