{#-
    The data-quality check catalogue lives in one place: the `dq_checks` var of
    dbt_project.yml (every check id with its severity and a description).
-#}

{#- The severity of `check_id` as a SQL literal ('warn' or 'error'). -#}
{% macro dq_severity(check_id) %}
    {%- set checks = var('dq_checks') -%}
    {#- sqlfluff's stand-in var() is a placeholder string, not the catalogue -#}
    {%- if checks is mapping and check_id not in checks -%}
        {{ exceptions.raise_compiler_error(
            "dq_severity: '" ~ check_id ~ "' is not in the check catalogue (var dq_checks)"
        ) }}
    {%- endif -%}
    '{{ checks[check_id]["severity"] }}'
{%- endmacro %}
