{% test in_dq_catalogue(model, column_name) %}
{#- Fails with the rows whose check id is not a key of the check catalogue (var dq_checks). -#}
select *
from {{ model }}
where {{ column_name }} not in (
    {%- for check_id in var('dq_checks') %}
        '{{ check_id }}'{{ ',' if not loop.last }}
    {%- endfor %}
)
{% endtest %}
