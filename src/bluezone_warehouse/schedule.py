"""When things run and where writers queue: the one home of the schedule constants.

Both DAG files, the CLI, the pipeline and the test bench read these: the daily run's local
time, the writer pool, and the times of day the deadline digests are due. The time zone is
``config.LOCAL_TZ``. Imports nothing heavy, so DAG files can use it at parse time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bluezone_warehouse.config import LOCAL_TZ, Settings

# Every task that writes the DuckDB warehouse runs in this pool, which has one slot.
WRITER_POOL = "warehouse_writer"
WRITER_POOL_SLOTS = 1
WRITER_POOL_DESCRIPTION = "Single writer of the DuckDB warehouse"

# The daily run for day D starts at this local time on D+1, once D's export can have arrived.
DAILY_RUN_LOCAL_TIME = time(2, 0)


def cron_at(moment: time) -> str:
    """A daily cron expression at ``moment`` (local time of day)."""
    return f"{moment.minute} {moment.hour} * * *"


DAILY_CRON = cron_at(DAILY_RUN_LOCAL_TIME)


def run_date_for(data_interval_start: datetime) -> date:
    """The business day of a ``bluezone_daily`` run: the local day its interval starts on."""
    return data_interval_start.astimezone(LOCAL_TZ).date()


def logical_date_for(run_date: date) -> datetime:
    """The logical date to give ``airflow dags test`` so that the run is for ``run_date``."""
    return datetime.combine(run_date + timedelta(days=1), DAILY_RUN_LOCAL_TIME, tzinfo=LOCAL_TZ)


def digest_times(
    deadline: str, escalation_after_minutes: int, reminder_before_minutes: int = 0
) -> dict[str, str]:
    """When each digest about a deadline (HH:MM) is due, local time of day: the deadline
    digest at the deadline, the escalation after it and, when set, the reminder before."""
    moment = datetime.combine(date(2020, 1, 1), time.fromisoformat(deadline))
    times = {
        "deadline": deadline,
        "escalation": (moment + timedelta(minutes=escalation_after_minutes)).strftime("%H:%M"),
    }
    if reminder_before_minutes:
        times["reminder"] = (moment - timedelta(minutes=reminder_before_minutes)).strftime("%H:%M")
    return times


def alert_times(settings: Settings, deadlines: list[str] | None = None) -> list[str]:
    """Every local time of day (HH:MM) a digest is due (:func:`digest_times`) for each
    registry deadline (or ``deadlines``)."""
    if deadlines is None:
        from bluezone_warehouse.registry import load_registry

        deadlines = load_registry(units=settings.units).deadline_times()
    return sorted(
        {
            due
            for deadline in deadlines
            for due in digest_times(
                deadline, settings.escalation_after_minutes, settings.reminder_before_minutes
            ).values()
        }
    )


# Today's refresh (DESIGN §6): every INTRADAY_EVERY_MINUTES from INTRADAY_FROM until the
# day's last digest, and at every digest time.
INTRADAY_FROM = time(7, 0)
INTRADAY_EVERY_MINUTES = 15


def refresh_times(settings: Settings, deadlines: list[str] | None = None) -> list[str]:
    """Every local time of day (HH:MM) the deadline DAG runs: each digest time of
    :func:`alert_times`, and every ``INTRADAY_EVERY_MINUTES`` from ``INTRADAY_FROM`` until
    the last of them."""
    digests = alert_times(settings, deadlines)
    last = time.fromisoformat(max(digests))
    times = set(digests)
    moment = datetime.combine(date(2020, 1, 1), INTRADAY_FROM)
    while moment.time() <= last and moment.date() == date(2020, 1, 1):
        times.add(moment.strftime("%H:%M"))
        moment += timedelta(minutes=INTRADAY_EVERY_MINUTES)
    return sorted(times)


def crons_for(times: list[str]) -> list[str]:
    """Cron expressions firing at exactly ``times`` (HH:MM, local), hours with the same
    minutes sharing one expression."""
    minutes_by_hour: dict[int, set[int]] = {}
    for hhmm in times:
        moment = time.fromisoformat(hhmm)
        minutes_by_hour.setdefault(moment.hour, set()).add(moment.minute)
    hours_by_minutes: dict[tuple[int, ...], list[int]] = {}
    for hour, minutes in sorted(minutes_by_hour.items()):
        hours_by_minutes.setdefault(tuple(sorted(minutes)), []).append(hour)
    return [
        f"{','.join(map(str, minutes))} {','.join(map(str, hours))} * * *"
        for minutes, hours in hours_by_minutes.items()
    ]


def alert_moment(day: date, hhmm: str) -> datetime:
    """When a digest time of :func:`alert_times` (HH:MM) falls on ``day``, local time."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=LOCAL_TZ)
