"""The landing zone's sources (DESIGN §3.2, §3.3), each implementing ``source.Source``:

- ``ExportSource``: the national install export, ``installs/installs_YYYYMMDD*.csv[.gz]``
  or ``.parquet``, checked by DuckDB in the checker's own connection;
- ``EventSource``: the event-level export, ``installs/install_events_YYYYMMDD*.parquet``,
  aggregated by DuckDB into daily counts;
- ``ReportSource``: unit reports, ``reports/*.csv|xlsx|json``, read, matched to the registry
  and checked row by row.

Every rejection, of a row or of a whole file (``InputRejected``, explained here with the
file's name), carries the sender's message in ``settings.alert_language``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from itertools import chain
from pathlib import Path

from bluezone_warehouse import tables
from bluezone_warehouse.config import SEEDS_DIR, Settings
from bluezone_warehouse.ingest.events import events_day
from bluezone_warehouse.ingest.exports import (
    CheckedExport,
    ExportChecker,
    ExportRejected,
    export_day,
)
from bluezone_warehouse.ingest.messages import DEFAULT_LANGUAGE
from bluezone_warehouse.ingest.readers import FileRejected, ParsedFile, read_report
from bluezone_warehouse.ingest.reports import Rejection, check_report_rows
from bluezone_warehouse.ingest.source import Content, InputRejected, Loaded, RowsFile, Source
from bluezone_warehouse.ingest.units import UnitMatcher
from bluezone_warehouse.landing import LandedFile
from bluezone_warehouse.registry import load_registry
from bluezone_warehouse.tables import Table
from bluezone_warehouse.units import unit_set


class ExportSource:
    folder = "installs"

    def __init__(self, checker: ExportChecker, language: str = DEFAULT_LANGUAGE) -> None:
        self.checker = checker
        self.language = language

    def claims(self, file_name: str) -> bool:
        return events_day(file_name) is None

    def size_limit(self, settings: Settings) -> int:
        return settings.max_export_bytes

    def day_of(self, file_name: str) -> date | None:
        with explained(file_name, self.language):
            return export_day(file_name)

    def load(self, content: Content) -> Loaded:
        name = content.landed.name
        with explained(name, self.language):
            day = export_day(name)
            with content.local_copy() as local:
                checked = self.checker.check(local, day, file_name=name, language=self.language)
        return Loaded(self._records(checked, name))

    def _records(
        self, checked: CheckedExport, file_name: str
    ) -> Iterator[tuple[Table, dict | RowsFile]]:
        yield from ((tables.INSTALL_EXPORTS, row) for row in checked.rows)
        if checked.rejected is not None:
            yield tables.REJECTED_ROWS, checked.rejected
        if not checked.good:
            raise ExportRejected(
                f"no usable row: all {checked.bad} rows were rejected; "
                f"first: {checked.first_reason}",
                problem="no_usable_row",
                details={"count": checked.bad},
            ).explain(file_name, self.language)

    def close(self) -> None:
        self.checker.close()


class EventSource:
    folder = "installs"

    def __init__(self, checker: ExportChecker, language: str = DEFAULT_LANGUAGE) -> None:
        self.checker = checker
        self.language = language

    def claims(self, file_name: str) -> bool:
        try:
            return events_day(file_name) is not None
        except ValueError:  # an event export's name with an impossible day: still ours
            return True

    def size_limit(self, settings: Settings) -> int:
        return settings.max_export_bytes

    def day_of(self, file_name: str) -> date | None:
        with explained(file_name, self.language):
            return events_day(file_name)

    def load(self, content: Content) -> Loaded:
        name = content.landed.name
        with explained(name, self.language):
            day = events_day(name)
            with content.local_copy() as local:
                events = self.checker.check_events(
                    local, day, file_name=name, language=self.language
                )
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
        self.language = settings.alert_language

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
        with explained(landed.name, self.language), content.local_copy() as local:
            parsed = read_report(landed.name, local, self.settings.max_xlsx_uncompressed_bytes)
            if not parsed.rows:
                raise FileRejected(
                    "the file has a header but no data rows",
                    problem="no_data_rows",
                    sheet=parsed.sheet,
                )
            good, reasons, first = 0, Counter(), None
            for item in self._checked(parsed, landed):
                if isinstance(item, Rejection):
                    reasons[item.check_id] += 1
                    first = first or item
                    yield tables.REJECTED_ROWS, asdict(item)
                else:
                    good += 1
                    yield tables.UNIT_REPORTS, item
            if not good and first is not None:
                detail = ", ".join(f"{n} {kind}" for kind, n in reasons.most_common())
                raise FileRejected(
                    f"no usable row: {detail}; first: {first.reason}",
                    problem="no_usable_row",
                    sheet=parsed.sheet,
                    details={"count": sum(reasons.values())},
                )

    def _checked(
        self, parsed: ParsedFile, landed: LandedFile
    ) -> Iterator[dict[str, object] | Rejection]:
        return check_report_rows(
            parsed,
            self.matcher,
            file_name=landed.name,
            arrived_at=landed.arrived_at,
            campaign=(self.settings.campaign_start, self.settings.campaign_end),
            language=self.language,
        )

    def close(self) -> None:
        """Nothing to release."""

    def provinces_named(self, local: Path, landed: LandedFile) -> set[str]:
        """The provinces whose units the rows of ``local`` (a report's lines written so far)
        name, read as ingestion would read them; empty when none can be read yet."""
        try:
            parsed = read_report(landed.name, local, self.settings.max_xlsx_uncompressed_bytes)
            named = {
                item.province_code if isinstance(item, Rejection) else item["province_code"]
                for item in self._checked(parsed, landed)
            }
        except Exception:  # a half-written file may be unreadable in any way: nothing named
            return set()
        return {code for code in named if code}


@contextmanager
def explained(file_name: str, language: str) -> Iterator[None]:
    """Give an InputRejected raised inside the sender's message, naming ``file_name``."""
    try:
        yield
    except InputRejected as err:
        err.explain(file_name, language)
        raise


def open_sources(settings: Settings) -> list[Source]:
    """Every source, in the order they claim files (the first that claims a file reads it);
    the senders' messages are in ``settings.alert_language``."""
    units = unit_set(settings.units)
    checker = ExportChecker(SEEDS_DIR, units)
    language = settings.alert_language
    return [
        EventSource(checker, language),
        ExportSource(checker, language),
        ReportSource(settings, UnitMatcher.from_registry(load_registry(units=units.name))),
    ]
