"""The landing zone's sources (DESIGN §3.2, §3.3), each implementing ``source.Source``:

- ``ExportSource``: the national install export, ``installs/installs_YYYYMMDD*.csv[.gz]``
  or ``.parquet``, checked by DuckDB in the checker's own connection;
- ``EventSource``: the event-level export, ``installs/install_events_YYYYMMDD*.parquet``,
  aggregated by DuckDB into daily counts;
- ``ReportSource``: unit reports, ``reports/*.csv|xlsx|json``, read, matched to the registry
  and checked row by row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from itertools import chain

from bluezone_warehouse import tables
from bluezone_warehouse.config import SEEDS_DIR, Settings
from bluezone_warehouse.ingest.events import events_day
from bluezone_warehouse.ingest.exports import (
    CheckedExport,
    ExportChecker,
    ExportRejected,
    export_day,
)
from bluezone_warehouse.ingest.readers import FileRejected, read_report
from bluezone_warehouse.ingest.reports import Rejection, check_report_rows
from bluezone_warehouse.ingest.source import Content, Loaded, Source
from bluezone_warehouse.ingest.units import UnitMatcher
from bluezone_warehouse.tables import Table


class ExportSource:
    folder = "installs"

    def __init__(self, checker: ExportChecker) -> None:
        self.checker = checker

    def claims(self, file_name: str) -> bool:
        return events_day(file_name) is None

    def size_limit(self, settings: Settings) -> int:
        return settings.max_export_bytes

    def day_of(self, file_name: str) -> date | None:
        return export_day(file_name)

    def load(self, content: Content) -> Loaded:
        day = export_day(content.landed.name)
        with content.local_copy() as local:
            checked = self.checker.check(local, day)
        return Loaded(self._records(checked))

    @staticmethod
    def _records(checked: CheckedExport) -> Iterator[tuple[Table, dict]]:
        yield from ((tables.INSTALL_EXPORTS, row) for row in checked.rows)
        first = None
        for row in checked.rejected:
            first = first or row
            yield tables.REJECTED_ROWS, row
        if not checked.good and first is not None:
            raise ExportRejected(
                f"no usable row: all {checked.bad} rows were rejected; first: {first['reason']}"
            )

    def close(self) -> None:
        self.checker.close()


class EventSource:
    folder = "installs"

    def __init__(self, checker: ExportChecker) -> None:
        self.checker = checker

    def claims(self, file_name: str) -> bool:
        try:
            return events_day(file_name) is not None
        except ValueError:  # an event export's name with an impossible day: still ours
            return True

    def size_limit(self, settings: Settings) -> int:
        return settings.max_export_bytes

    def day_of(self, file_name: str) -> date | None:
        return events_day(file_name)

    def load(self, content: Content) -> Loaded:
        day = events_day(content.landed.name)
        with content.local_copy() as local:
            events = self.checker.check_events(local, day)
        return Loaded(
            chain(
                ((tables.INSTALL_EVENT_COUNTS, row) for row in events.counts),
                ((tables.REJECTED_ROWS, row) for row in events.rejected),
            ),
            events.events_loaded,
            events.events_rejected,
        )

    def close(self) -> None:
        """The checker is the export source's."""


class ReportSource:
    folder = "reports"

    def __init__(self, settings: Settings, matcher: UnitMatcher) -> None:
        self.settings = settings
        self.matcher = matcher

    def claims(self, file_name: str) -> bool:
        return True

    def size_limit(self, settings: Settings) -> int:
        return settings.max_file_bytes

    def day_of(self, file_name: str) -> date | None:
        return None

    def load(self, content: Content) -> Loaded:
        return Loaded(self._records(content))

    def _records(self, content: Content) -> Iterator[tuple[Table, dict]]:
        landed = content.landed
        with content.local_copy() as local:
            parsed = read_report(landed.name, local, self.settings.max_xlsx_uncompressed_bytes)
            if not parsed.rows:
                raise FileRejected("the file has a header but no data rows")
            good, reasons, first = 0, Counter(), None
            for item in check_report_rows(
                parsed,
                self.matcher,
                file_name=landed.name,
                arrived_at=landed.arrived_at,
                campaign=(self.settings.campaign_start, self.settings.campaign_end),
            ):
                if isinstance(item, Rejection):
                    reasons[item.check_id] += 1
                    first = first or item
                    yield tables.REJECTED_ROWS, asdict(item)
                else:
                    good += 1
                    yield tables.UNIT_REPORTS, item
        if not good and first is not None:
            detail = ", ".join(f"{n} {kind}" for kind, n in reasons.most_common())
            raise FileRejected(f"no usable row: {detail}; first: {first.reason}")

    def close(self) -> None:
        """Nothing to release."""


def open_sources(settings: Settings) -> list[Source]:
    """Every source, in the order they claim files (the first that claims a file reads it)."""
    checker = ExportChecker(SEEDS_DIR)
    return [
        EventSource(checker),
        ExportSource(checker),
        ReportSource(settings, UnitMatcher.from_registry()),
    ]
