{% test in_unit_set(model, column_name, kind) %}
{#- Fails with the rows whose value is not one of the campaign's unit set's `kind` (levels,
    unit_kinds): macro unit_set_values. -#}
select *
from {{ model }}
where {{ column_name }} not in (
    {%- for value in unit_set_values(kind) %}
        '{{ value }}'{{ ',' if not loop.last }}
    {%- endfor %}
)
{% endtest %}
