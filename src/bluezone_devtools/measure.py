"""How well the data-quality checks find what DESIGN §5 says they must: recall and
precision per check against a simulated campaign's ground truth, with every miss and every
false positive named (unit, day, value).

The truth is the simulator's (``bluezone_devtools.simulate``): ``faults.csv`` for the final
state, and ``Oracle.expected(moment, run_date)`` for what had arrived by any moment. A
replay (``replay``) copies into a fresh landing zone what had arrived by each run's time
(``deliver_until``), runs the warehouse's ingestion and build for the run's day, and
compares ``marts.fct_data_quality_issues`` with the truth at that moment: superseded
deliveries, reports still on their way and the state at a deadline are measured, not only
the end of the campaign.

A flag matches a truth row of the same check on the same file (the checks raised at
ingestion: malformed_file, unknown_unit, out_of_range_date, code_name_mismatch), on the same day
(stale_export), or on the same unit and day (every other check: report_rejected too, a
unit-day whose deliveries were all rejected, which the truth never also calls missing).
The checks are the catalogue's (``dbt_project.yml``'s ``dq_checks``), so a check added
there is scored, and shows as never expected until the simulator places it.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb

from bluezone_warehouse.checks import check_ids
from bluezone_warehouse.config import LOCAL_TZ

CHECKS = check_ids()
BY_FILE = {"malformed_file", "unknown_unit", "out_of_range_date", "code_name_mismatch"}


def key_of(check: str, unit: str | None, day: str | None, source_file: str | None) -> tuple:
    if check in BY_FILE:
        return (check, source_file or "")
    if check == "stale_export":
        return (check, day or "")
    return (check, unit or "", day or "")


@dataclass(frozen=True)
class Flag:
    """A flag, expected (from the truth) or raised (by the warehouse)."""

    check: str
    unit_code: str
    province_code: str
    day: str
    file: str
    observed: str
    limit: str = ""

    @property
    def key(self) -> tuple:
        return key_of(self.check, self.unit_code, self.day, self.file)

    def describe(self) -> str:
        where = self.file if self.check in BY_FILE else f"{self.unit_code or '-'} {self.day}"
        value = f": {self.observed}" if self.observed else ""
        limit = f" (DESIGN: {self.limit})" if self.limit else ""
        return f"{self.check} {where}{value}{limit}"


def read_faults(faults_csv: Path) -> list[Flag]:
    """The final truth: ``faults.csv``'s rows of the catalogue's checks."""
    with faults_csv.open(encoding="utf-8", newline="") as handle:
        return [
            Flag(
                row["kind"],
                row["unit_code"],
                row["province_code"],
                row["day"],
                row["file"],
                row.get("observed", ""),
                row.get("limit", ""),
            )
            for row in csv.DictReader(handle)
            if row["kind"] in CHECKS
        ]


def from_expected(expected: Iterable) -> list[Flag]:
    """The truth at a moment: ``Oracle.expected``'s rows of the catalogue's checks."""
    return [
        Flag(e.check, e.unit_code, e.province_code, e.day.isoformat(), e.file, e.observed, e.limit)
        for e in expected
        if e.check in CHECKS
    ]


def simulated_provinces(faults_csv: Path) -> list[str]:
    """The provinces the campaign simulated (from simulation.json beside the manifest)."""
    return json.loads((faults_csv.parent / "simulation.json").read_text())["provinces"]


def warehouse_flags(con: duckdb.DuckDBPyConnection, provinces: Sequence[str]) -> list[Flag]:
    """Flags in the simulated provinces (and nation-wide ones): units of the registry in
    provinces the simulation left out are rightly flagged missing, but are no test of it."""
    rows = con.execute(
        "select check_id, unit_code, province_code, cast(day as varchar), source_file, "
        "observed from marts.fct_data_quality_issues "
        "where province_code is null or list_contains(?, province_code)",
        [list(provinces)],
    ).fetchall()
    return [Flag(c, u or "", p or "", d or "", f or "", o or "") for c, u, p, d, f, o in rows]


@dataclass
class CheckResult:
    check_id: str
    expected: int
    flagged: int
    matched: int
    misses: list[Flag] = field(default_factory=list)
    false_positives: list[Flag] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.matched / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        return self.matched / self.flagged if self.flagged else None

    @property
    def exact(self) -> bool:
        return not self.misses and not self.false_positives


def compare(expected: Iterable[Flag], flags: Iterable[Flag]) -> dict[str, CheckResult]:
    """Per check of the catalogue: how many expected, raised and matched, and which not."""
    want: dict[str, dict[tuple, Flag]] = defaultdict(dict)
    got: dict[str, dict[tuple, Flag]] = defaultdict(dict)
    for flag in expected:
        want[flag.check].setdefault(flag.key, flag)
    for flag in flags:
        got[flag.check].setdefault(flag.key, flag)
    results = {}
    for check in CHECKS:
        w, g = want[check], got[check]
        results[check] = CheckResult(
            check,
            len(w),
            len(g),
            len(w.keys() & g.keys()),
            sorted((w[k] for k in w.keys() - g.keys()), key=_order),
            sorted((g[k] for k in g.keys() - w.keys()), key=_order),
        )
    return results


def _order(flag: Flag) -> tuple:
    return (flag.day, flag.unit_code, flag.file)


def score(con: duckdb.DuckDBPyConnection, faults_csv: Path) -> list[CheckResult]:
    """The warehouse's flags against the final truth, per check."""
    flags = warehouse_flags(con, simulated_provinces(faults_csv))
    return list(compare(read_faults(faults_csv), flags).values())


# -- replaying a campaign as it arrived -------------------------------------------------------

DAILY_RUN = time(2, 0)  # the daily run for D starts at 02:00 on D+1 (DESIGN §7)


@dataclass(frozen=True)
class Run:
    """One run of the pipeline in a replay: what had arrived by ``cutoff`` (local time),
    built for ``run_date``."""

    kind: str  # deadline | daily | final
    cutoff: datetime
    run_date: date

    @property
    def label(self) -> str:
        if self.kind == "daily":
            return f"daily {self.run_date:%m-%d}"
        if self.kind == "deadline":
            return f"{self.run_date:%m-%d} {self.cutoff:%H:%M}"
        return "final"

    @property
    def moment(self) -> datetime:
        """The cutoff as the simulator keeps times (local, naive)."""
        return self.cutoff.astimezone(LOCAL_TZ).replace(tzinfo=None)


def daily_runs(days: Sequence[date]) -> list[Run]:
    return [
        Run("daily", datetime.combine(d + timedelta(days=1), DAILY_RUN, tzinfo=LOCAL_TZ), d)
        for d in days
    ]


def deadline_runs(days: Sequence[date], deadlines: Sequence[time]) -> list[Run]:
    return [
        Run("deadline", datetime.combine(d, at, tzinfo=LOCAL_TZ), d)
        for d in days
        for at in sorted(set(deadlines))
    ]


def final_run(source: Path, last_day: date) -> Run:
    """After every file of the campaign has arrived."""
    latest = max(p.stat().st_mtime for p in source.rglob("*") if p.is_file())
    return Run("final", datetime.fromtimestamp(latest, LOCAL_TZ), last_day)


@dataclass
class RunResult:
    run: Run
    results: dict[str, CheckResult]
    seconds: float
    expected: list[Flag] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def raised(self, check: str) -> list[Flag]:
        """The warehouse's flags of ``check`` after this run."""
        return [f for f in self.flags if f.check == check]

    def truth(self, check: str) -> list[Flag]:
        """The flags of ``check`` DESIGN calls for at this run."""
        return [f for f in self.expected if f.check == check]


def replay(
    source: Path,
    oracle,
    settings,
    runs: Sequence[Run],
    provinces: Sequence[str],
) -> Iterator[RunResult]:
    """Run ingestion and build for each run in order, on a landing zone holding what had
    arrived by its cutoff, and compare the warehouse's flags with the truth at that time."""
    from time import perf_counter

    from bluezone_devtools.simulate import deliver_until
    from bluezone_warehouse.ingest import ingest_landing
    from bluezone_warehouse.transform import build

    landing = Path(settings.landing_url)
    landing.mkdir(parents=True, exist_ok=True)
    for n, run in enumerate(sorted(runs, key=lambda r: (r.cutoff, r.kind))):
        started = perf_counter()
        run_id = f"replay-{n:03d}-{run.kind}-{run.run_date.isoformat()}"
        deliver_until(source, landing, run.cutoff)
        ingest_landing(settings, run_id=run_id)
        build(settings, run.run_date, run_id)
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            flags = warehouse_flags(con, provinces)
        finally:
            con.close()
        moment = None if run.kind == "final" else run.moment
        expected = from_expected(oracle.expected(moment, run.run_date))
        seconds = perf_counter() - started
        yield RunResult(run, compare(expected, flags), seconds, expected, flags)


def pooled(runs: Sequence[RunResult]) -> dict[str, CheckResult]:
    """Every run's (flag, run) pairs added up, per check."""
    total = {}
    for check in CHECKS:
        parts = [r.results[check] for r in runs]
        total[check] = CheckResult(
            check,
            sum(p.expected for p in parts),
            sum(p.flagged for p in parts),
            sum(p.matched for p in parts),
            [m for p in parts for m in p.misses],
            [f for p in parts for f in p.false_positives],
        )
    return total


# -- writing it down ----------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def table(results: Iterable[CheckResult]) -> str:
    lines = [
        "| check | expected | flagged | matched | recall | precision |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s.check_id} | {s.expected} | {s.flagged} | {s.matched} | {_fmt(s.recall)} | "
        f"{_fmt(s.precision)} |"
        for s in results
    ]
    return "\n".join(lines)


def both_tables(final: dict[str, CheckResult], over_runs: dict[str, CheckResult]) -> str:
    """One table: the final state, and all runs' (flag, run) pairs added up."""
    lines = [
        "| check | expected | flagged | recall | precision | expected (runs) | "
        "flagged (runs) | recall (runs) | precision (runs) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for check in CHECKS:
        f, r = final[check], over_runs[check]
        lines.append(
            f"| {check} | {f.expected} | {f.flagged} | {_fmt(f.recall)} | {_fmt(f.precision)} | "
            f"{r.expected} | {r.flagged} | {_fmt(r.recall)} | {_fmt(r.precision)} |"
        )
    return "\n".join(lines)


@dataclass
class Discrepancy:
    kind: str  # missed | false positive
    flag: Flag
    runs: list[str] = field(default_factory=list)


def discrepancies(runs: Sequence[RunResult]) -> list[Discrepancy]:
    """Each distinct miss and false positive over the runs, with the runs it was seen in."""
    found: dict[tuple, Discrepancy] = {}
    for result in runs:
        for check in result.results.values():
            pairs = (("missed", check.misses), ("false positive", check.false_positives))
            for kind, flags in pairs:
                for flag in flags:
                    entry = found.setdefault((kind, flag.key), Discrepancy(kind, flag))
                    entry.runs.append(result.run.label)
    return sorted(found.values(), key=lambda d: (d.flag.check, d.kind, _order(d.flag)))


def discrepancy_table(items: Sequence[Discrepancy], total_runs: int, limit: int = 200) -> str:
    if not items:
        return "None: every run's flags are exactly the truth at that run."
    lines = [
        "| check | | unit | day | observed | DESIGN's limit | runs |",
        "|---|---|---|---|---|---|---|",
    ]
    for item in items[:limit]:
        f = item.flag
        unit = f.file if f.check in BY_FILE else f.unit_code
        runs = _runs_text(item.runs, total_runs)
        lines.append(
            f"| {f.check} | {item.kind} | {unit} | {f.day} | {_cell(f.observed)} | "
            f"{_cell(f.limit)} | {runs} |"
        )
    if len(items) > limit:
        lines.append(f"| ... | {len(items) - limit} more | | | | | |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _runs_text(labels: Sequence[str], total: int) -> str:
    if len(labels) == total:
        return f"all {total}"
    if len(labels) <= 3:
        return ", ".join(labels)
    return f"{len(labels)} of {total}: {labels[0]} ... {labels[-1]}"


def probe_table(probes_csv: Path, flags: Iterable[Flag]) -> str:
    """The boundary probes (``boundary_probes.csv``), one row per probe and side, with what
    DESIGN says and what the warehouse flagged at the end of the campaign."""
    raised = {f.key for f in flags}
    with probes_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["check"], row["side"], row["unit_code"], row["limit"])].append(row)
    lines = [
        "| check | side | unit | days | placed | DESIGN's limit | DESIGN flags | warehouse flags |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (check, side, unit, limit), group in sorted(groups.items()):
        hits = sum(key_of(check, unit, r["day"], "") in raised for r in group)
        days = group[0]["day"] if len(group) == 1 else f"{group[0]['day']}..{group[-1]['day']}"
        design = group[0]["flagged"]
        verdict = "yes" if hits == len(group) else "no" if hits == 0 else f"{hits} of {len(group)}"
        mark = "" if (verdict == design) else " **differs**"
        lines.append(
            f"| {check} | {side} | {unit} | {days} | {_cell(group[0]['observed'])} | "
            f"{_cell(limit)} | {design} | {verdict}{mark} |"
        )
    return "\n".join(lines)
