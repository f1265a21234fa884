{#
    A value that changes with every run (the business day, the rebuild window, the as-of
    moment, the run's id and start, the escalation delay), read from the environment the
    runner sets (BLUEZONE_RUN_<NAME>) when SQL is compiled for execution, and from the
    project var otherwise.

    dbt parses the project with partial parsing only while its command-line vars and the
    environment read at parse time stay the same; this macro reads nothing at parse time
    (execute is false then), so a run with a new day reuses the saved parse instead of
    parsing the whole project again. A unit test's `overrides: vars:` still win.
#}
{% macro run_var(name) -%}
    {%- set node = model if model is mapping else {} -%}
    {%- if execute and node.get('resource_type') != 'unit_test' -%}
        {{- return(env_var('BLUEZONE_RUN_' ~ name | upper, var(name))) -}}
    {%- endif -%}
    {{- return(var(name)) -}}
{%- endmacro %}
