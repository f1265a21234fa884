{#-
    Incremental marts replace a window of days on every run ("replace a partition"): the
    days from `rebuild_from` (the earliest day touched by newly landed files, minus a
    look-back, computed by the pipeline) and any day after `run_date` (so a backfill of an
    older day leaves marts that end on that day). A first run or --full-refresh builds all.
    The window is over the model's day column, its `event_time` config.
-#}

{#- The folder's pre-hook (dbt_project.yml): deletes the window; nothing for a table. -#}
{% macro delete_rebuild_window() %}
    {%- if is_incremental() %}
        delete from {{ this }}
        where
            {{ in_rebuild_window(rebuild_day_column()) }}
            or {{ rebuild_day_column() }} > cast('{{ run_var("run_date") }}' as date)
            {{ or_rows_without_day() }}
    {%- endif %}
{% endmacro %}

{#- The final filter of an incremental mart: only the days in the window. -#}
{% macro rebuild_window() %}
    {%- if is_incremental() %}
        where {{ in_rebuild_window(rebuild_day_column()) }} {{ or_rows_without_day() }}
    {%- endif %}
{% endmacro %}

{#- `or <day column> is null` when a mart's rows without a day are rebuilt by every run, as if
    in every window: set by its config `meta: {rows_without_day: rebuilt}` (rows no window
    can place, such as a delivery from which no day could be read); else nothing. -#}
{% macro or_rows_without_day() %}
    {%- if config.get is defined
        and (config.get('meta') or {}).get('rows_without_day') == 'rebuilt' -%}
        or {{ rebuild_day_column() }} is null
    {%- endif -%}
{% endmacro %}

{#- A condition for the rows an incremental mart reads: only the days its window needs,
    and `days_before` more for a look-back over earlier days (a lag); true on a full build.
    What reads whole history to rebuild two weeks grows with every day of the campaign. -#}
{% macro in_rebuild_window(column, days_before=0) %}
    {%- if is_incremental() -%}
        {{ column }} >= cast('{{ run_var("rebuild_from") }}' as date) - {{ days_before }}
    {%- else -%}
        true
    {%- endif -%}
{% endmacro %}

{% macro rebuild_day_column() %}
    {#- sqlfluff's stand-in `config` has no `get`: it lints with a placeholder column. -#}
    {%- if config.get is not defined -%}
        {{ return('event_time') }}
    {%- endif -%}
    {%- set day_column = config.get('event_time') -%}
    {%- if not day_column -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ " is incremental: set its event_time config to the day column "
            ~ "its rebuild window is over"
        ) }}
    {%- endif -%}
    {{ return(day_column) }}
{% endmacro %}
