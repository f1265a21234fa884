{#-
    The status of a unit-day as it stood at `moment` (DESIGN §4), the one definition the
    final status, the status at the deadline and the status at the escalation all use.
    Expects the columns of int_reports_assessed's per-unit-day step: first_received_at (any
    delivery), first_accepted_received_at, first_sent_at (the first accepted delivery's
    sent_at) and deadline_at. Pass no moment for the final status.

    - an accepted delivery had arrived by then: on_time when the first accepted delivery was
      sent by the deadline, else late (at the deadline itself this is always on_time);
    - deliveries had arrived but none was accepted: rejected;
    - nothing had arrived: missing.
-#}
{% macro report_status(moment=none) %}
    case
        when first_accepted_received_at <= {{ moment or "'infinity'::timestamptz" }}
            then case when first_sent_at <= deadline_at then 'on_time' else 'late' end
        when first_received_at <= {{ moment or "'infinity'::timestamptz" }} then 'rejected'
        else 'missing'
    end
{% endmacro %}
