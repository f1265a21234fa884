"""The interface every landing-zone source implements, and what a load returns.

A source owns a landing folder (``installs/``, ``reports/``) or the part of it whose file
names it claims, and turns one landed file into rows for its raw tables plus row-level
rejections. It never touches the warehouse: the run loop (``ingest/__init__.py``) hashes,
deduplicates, records the manifest, adds lineage, quarantines and writes, the same way for
every source. Adding a source is one class here-shaped, one raw table in ``tables.py``, and
its place in ``ingest.sources.open_sources``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from bluezone_warehouse.config import Settings
from bluezone_warehouse.ingest import messages
from bluezone_warehouse.landing import LandedFile, LandingZone
from bluezone_warehouse.tables import Table


class InputRejected(ValueError):
    """A whole file that cannot be loaded. Its text is the reason, in the data team's
    English; ``problem`` (a key of ``ingest.messages.CATALOGUE``) with ``details`` and
    ``sheet`` is what the sender's message is made of, and ``message`` that message once
    the source has named the file (:meth:`explain`). ``rejected`` holds the row-level
    rejections when every row was rejected with its own reason: those are kept, and the
    file needs no separate flag."""

    def __init__(
        self,
        reason: str,
        *,
        problem: str = "file_unreadable",
        details: dict[str, object] | None = None,
        sheet: str | None = None,
        rejected: list[dict] | None = None,
    ) -> None:
        super().__init__(reason)
        self.problem = problem
        self.details = details or {}
        self.sheet = sheet
        self.rejected = rejected or []
        self.message: str | None = None

    def explain(self, file_name: str, language: str) -> InputRejected:
        """Write the sender's message for the file ``file_name``; returns the exception."""
        if self.message is None:
            self.message = messages.render(
                self.problem, language, file=file_name, sheet=self.sheet, **self.details
            )
        return self


@dataclass(frozen=True)
class RowsFile:
    """Many rows for one raw table at once: a Parquet file whose columns are named as the
    table's (without lineage), written by a source that made its rows in DuckDB. DuckDB
    inserts it in one statement, so no row passes through Python. It exists until the
    source's next record is asked for."""

    path: Path
    count: int


@dataclass
class Loaded:
    """What a source made of one file: records for its raw tables and row-level rejections
    (``tables.REJECTED_ROWS``), without lineage, produced lazily so that a large file is
    written in chunks; and the counts the manifest keeps when they are not the number of
    records (an event export counts events, not its daily rows). A record is one row, or a
    ``RowsFile`` of many."""

    records: Iterable[tuple[Table, dict | RowsFile]]
    rows_loaded: int | None = None
    rows_rejected: int | None = None


@dataclass(frozen=True)
class Content:
    """A landed file to read: a local copy on disk (the file itself in a local landing
    zone), read in bounded memory."""

    zone: LandingZone
    landed: LandedFile

    def local_copy(self) -> AbstractContextManager[Path]:
        return self.zone.local_copy(self.landed.read_path)


class Source(Protocol):
    folder: str  # the landing folder it reads

    def claims(self, file_name: str) -> bool:
        """Whether a file in ``folder`` with this name is this source's."""

    def size_limit(self, settings: Settings) -> int:
        """Larger files are refused unread."""

    def day_of(self, file_name: str) -> date | None:
        """The day a file's name declares (the manifest's ``snapshot_date``), if any;
        raises InputRejected when the name must declare one and does not."""

    def load(self, content: Content) -> Loaded:
        """Rows and rejections of one file; raises InputRejected for a file that cannot be
        loaded at all."""

    def close(self) -> None: ...


def iter_claimed(sources: list[Source], landed: LandedFile) -> Iterator[Source]:
    return (s for s in sources if s.folder == landed.source and s.claims(landed.name))
