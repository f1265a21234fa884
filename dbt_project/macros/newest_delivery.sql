{#-
    The rows of the newest delivery of each day in a relation of every delivery with lineage
    (a stg_raw__ model): a corrected re-delivery (a new file, or new bytes at the same path)
    replaces the earlier one for its day, while every delivery stays in raw for audit. Adds
    deliveries_count.
-#}
{% macro newest_delivery(relation, day_column) %}
    with deliveries as (
        select
            {{ day_column }},
            file_id,
            row_number() over (
                partition by {{ day_column }}
                order by max(arrived_at) desc, max(source_file) desc, file_id desc
            ) as delivery_rank,
            count(*) over (partition by {{ day_column }}) as deliveries_count,
        from {{ relation }}
        group by {{ day_column }}, file_id
    )

    select
        delivered.*,
        deliveries.deliveries_count,
    from {{ relation }} as delivered
    inner join deliveries
        on
            delivered.{{ day_column }} = deliveries.{{ day_column }}
            and delivered.file_id = deliveries.file_id
    where deliveries.delivery_rank = 1
{% endmacro %}
