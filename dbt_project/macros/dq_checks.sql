{#-
    The data-quality check catalogue lives in one place: the `dq_checks` var of
    dbt_project.yml (every check id with its severity and a description).
-#}

{#- The id an issue of the check in `column` is keyed by: the check's former id when the
    catalogue names one (`formerly`), else its id. -#}
{% macro dq_issue_key(column) %}
    {%- set checks = var('dq_checks') -%}
    {%- set whens = [] -%}
    {#- sqlfluff's stand-in var() is a placeholder string, not the catalogue -#}
    {%- if checks is mapping -%}
        {%- for check_id, entry in checks.items() if entry.get('formerly') -%}
            {%- do whens.append("when '" ~ check_id ~ "' then '" ~ entry['formerly'] ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if whens -%}
        {{- return('case ' ~ column ~ ' ' ~ whens | join(' ') ~ ' else ' ~ column ~ ' end') -}}
    {%- endif -%}
    {{- return(column) -}}
{%- endmacro %}

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
