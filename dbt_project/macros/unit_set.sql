{#
    The administrative unit set the campaign reports on (DESIGN §9): BLUEZONE_UNITS, else
    the project's var `unit_set`; its declaration is `vars.unit_sets` in dbt_project.yml
    (levels from the top down, code digits, seeds). Read when the project is parsed: the set
    decides which seeds the models read, so a warehouse keeps one set for its life.
#}
{% macro unit_set_name() -%}
    {{- return(env_var('BLUEZONE_UNITS', var('unit_set')) | string) -}}
{%- endmacro %}

{% macro unit_set() -%}
    {%- set sets = var('unit_sets') -%}
    {%- if sets is not mapping -%}
        {#- sqlfluff's stand-in var() is a placeholder string, not the declaration: lint
            the SQL against a stand-in set with every kind of level -#}
        {{- return({
            'levels': ['nation', 'region', 'province', 'area'],
            'provinces': 'provinces', 'areas': 'areas', 'registry': 'registry',
            'province_reporting': 'province_reporting', 'targets': 'targets',
            'committee_kind': 'area_committee',
        }) -}}
    {%- endif -%}
    {%- set name = unit_set_name() -%}
    {%- if name not in sets -%}
        {{- exceptions.raise_compiler_error(
            'unknown unit set ' ~ name ~ ': declared sets are ' ~ (sets.keys() | join(', '))
        ) -}}
    {%- endif -%}
    {{- return(sets[name]) -}}
{%- endmacro %}

{# Whether the unit set has the level `level` (e.g. regions in 2020, none in 2025). #}
{% macro has_level(level) -%}
    {{- return(level in unit_set()['levels']) -}}
{%- endmacro %}

{# The level below the province: the units a province's figures are made of and its
   People's Committees report for (district in 2020, commune in 2025). #}
{% macro area_level() -%}
    {%- set levels = unit_set()['levels'] -%}
    {{- return(levels[levels.index('province') + 1]) -}}
{%- endmacro %}

{# The seed of the set's `kind` (provinces, areas, registry, province_reporting, targets). #}
{% macro unit_seed(kind) -%}
    {{- return(ref(unit_set()[kind])) -}}
{%- endmacro %}

{# The values a column of unit kinds may hold in the set: its levels (`levels`) or its
   registry's kinds of unit (`unit_kinds`: the area level's committees and the agencies). #}
{% macro unit_set_values(kind) -%}
    {%- if kind == 'levels' -%}
        {{- return(unit_set()['levels']) -}}
    {%- elif kind == 'unit_kinds' -%}
        {{- return([unit_set()['committee_kind'], 'provincial_agency']) -}}
    {%- endif -%}
    {{- exceptions.raise_compiler_error('unit_set_values: unknown kind ' ~ kind) -}}
{%- endmacro %}
