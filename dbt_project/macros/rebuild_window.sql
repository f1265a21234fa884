{#-
    Incremental marts replace a window of days on every run ("replace a partition"): the
    days from `rebuild_from` (the earliest day touched by newly landed files, minus a
    look-back, computed by the pipeline) and any day after `run_date` (so a backfill of an
    older day leaves marts that end on that day). A first run or --full-refresh builds all.
-#}
{% macro delete_rebuild_window(day_column) %}
    {% if is_incremental() %}
        delete from {{ this }}
        where
            {{ day_column }} >= cast('{{ var("rebuild_from") }}' as date)
            or {{ day_column }} > cast('{{ var("run_date") }}' as date)
    {% else %}
        select 1
    {% endif %}
{% endmacro %}

{% macro in_rebuild_window(day_column) %}
    {% if is_incremental() %}
        where {{ day_column }} >= cast('{{ var("rebuild_from") }}' as date)
    {% endif %}
{% endmacro %}
