"""Great Expectations validation of the raw layer and the marts, its results stored as rows.

One GX suite per validated relation lives in ``expectations/`` as GX 1.x ExpectationSuite
JSON (``name``, ``notes``, ``meta``, ``expectations`` of ``type``/``kwargs``/``meta``). Each
suite's ``meta.bluezone`` names the relation it checks and the key columns that identify a
failing row; a suite whose name ends in ``_daily_counts`` validates a small frame derived
from that relation (one row per day with its counts): the dbt model
``checks.chk_<relation>_daily_counts`` (``dbt_project/models/checks/``). Adding a check to an
existing relation, or a suite for a new one, is a JSON edit; a new derived frame is also a
dbt model there.

The run's day reaches the suites as the GX suite parameter ``run_date`` (``{"$PARAMETER":
"run_date"}`` in a suite's kwargs), passed at validation time; no suite reads the clock.

GX cannot read DuckDB through its SQL datasource, so each relation is read with a read-only
connection into a pandas DataFrame (DATE columns as ``datetime.date``) and validated with a
pandas datasource. Validation never writes the warehouse: the caller stores the results
with :func:`store_results` through the single writer. Great Expectations takes seconds to
import, so it is imported inside :func:`validate_warehouse` only, with its logger at WARNING.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from bluezone_warehouse import checks
from bluezone_warehouse.config import EXPECTATIONS_DIR, SEEDS_DIR
from bluezone_warehouse.names import safe_file_name
from bluezone_warehouse.registry import AGENCY, read_seed
from bluezone_warehouse.tables import GX_RESULTS
from bluezone_warehouse.units import unit_set
from bluezone_warehouse.warehouse import connect_reader

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

RUN_DATE_PARAMETER = "run_date"
# An expectation's kind (its meta.kind in the suite): structural expectations hold the
# warehouse's own invariants (keys, nulls, relationships, contract columns, formulas) and
# block publication; data expectations describe what the input did and only warn (DESIGN §5).
STRUCTURAL, DATA = "structural", "data"
KINDS = (STRUCTURAL, DATA)
DERIVED_SUFFIX = "_daily_counts"
MART_SCHEMA = "marts"
RAW_SCHEMA = "raw"
DOCS_SITE = "bluezone"
MAX_TEXT = 2000
MAX_ROWS_SHOWN = 5
RELATION_PATTERN = re.compile(r"^(raw|marts)\.[a-z_][a-z0-9_]*$")
# The dbt schema of the per-day frames derived suites validate (dbt_project/models/checks).
CHECKS_SCHEMA = "checks"


def catalogue_parameters() -> dict[str, list]:
    """The check catalogue as suite parameters (``{"$PARAMETER": "check_ids"}`` in a suite),
    so that no suite keeps its own copy of the check ids and severities."""
    catalogue = checks.catalogue()
    severities = [[check.id, check.severity] for check in catalogue.values()]
    escalated = checks.dbt_vars()["dq_missing_report_severity"]
    if ["missing_report", escalated] not in severities:
        severities.append(["missing_report", escalated])
    return {"check_ids": list(catalogue), "check_severities": severities}


def unit_set_parameters(units: str | None = None) -> dict[str, Any]:
    """The campaign's unit set as suite parameters, so that no suite names a level or a
    count of units as a fixed fact: ``unit_levels`` (its levels, top down), ``area_level``,
    ``committee_kinds`` (the registry's kinds), ``regions_count``, ``provinces_count`` and
    ``areas_count`` (the units its seeds have at each level; no regions in 2025) and
    ``units_count`` (those and the nation), and ``history_rows_min`` (1 when the marts of
    the 2020 figures on the 2025 units must have rows, 0 on a campaign already on them)."""
    declared = unit_set(units)
    counts = {
        f"{kind}_count": len(read_seed(SEEDS_DIR, declared.seed_file(seed))) if seed else 0
        for kind, seed in (
            ("regions", declared.regions_seed),
            ("provinces", declared.provinces_seed),
            ("areas", declared.areas_seed),
        )
    }
    return {
        "unit_levels": list(declared.levels),
        "area_level": declared.area_level,
        "committee_kinds": [declared.committee_kind, AGENCY],
        **counts,
        "units_count": 1 + sum(counts.values()),
        # the marts that carry a 2020 campaign onto the 2025 units have rows only then
        "history_rows_min": 0 if declared.carried_from else 1,
    }


def derived_relation(relation: str) -> str:
    """The dbt model a ``*_daily_counts`` suite on ``relation`` validates."""
    return f"{CHECKS_SCHEMA}.chk_{relation.split('.', 1)[1]}{DERIVED_SUFFIX}"


GX_RESULTS_DDL = GX_RESULTS.ddl()


class SuiteDefinitionError(ValueError):
    """A suite file in ``expectations/`` is not what this module can run."""


class MartExpectationsFailed(RuntimeError):
    """At least one structural expectation on a mart failed: the run's snapshot is
    withdrawn from BI and the run fails."""


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome on one relation."""

    suite: str
    relation: str
    expectation: str
    column: str | None
    success: bool
    observed_value: str | None
    details: str | None
    kind: str = STRUCTURAL  # structural: blocks publication; data: a warning, stored

    @property
    def blocks(self) -> bool:
        return self.kind == STRUCTURAL

    def describe(self) -> str:
        """One line a person can act on: which expectation, on what, what was seen."""
        if self.column is None:
            target = self.relation
        elif ", " in self.column:
            target = f"{self.relation} ({self.column})"
        else:
            target = f"{self.relation}.{self.column}"
        text = f"{self.suite}: {self.expectation} on {target}"
        if self.observed_value is not None:
            text += f" observed {self.observed_value}"
        if self.details:
            text += f" ({self.details})"
        return text


@dataclass
class ValidationSummary:
    """Every expectation's result for one validation of the warehouse."""

    run_id: str
    results: list[ExpectationResult]
    data_docs_index: Path | None
    run_date: date
    validated_at: datetime

    @property
    def failed(self) -> list[ExpectationResult]:
        return [result for result in self.results if not result.success]

    @property
    def failed_marts(self) -> list[ExpectationResult]:
        """Structural failures on the marts' suites (including their per-day counts): the
        warehouse's own invariants broke, and the run stops before publication (DESIGN §5)."""
        return [r for r in self.failed if r.relation.startswith(f"{MART_SCHEMA}.") and r.blocks]

    @property
    def data_warnings(self) -> list[ExpectationResult]:
        """Failed data expectations on the marts: what the input did (a day without an
        export, a province missing); stored and reported, never a reason to withhold."""
        return [r for r in self.failed if r.relation.startswith(f"{MART_SCHEMA}.") and not r.blocks]

    @property
    def failed_raw(self) -> list[ExpectationResult]:
        """Failures on the raw layer's suites: recorded, but the run goes on."""
        return [r for r in self.failed if r.relation.startswith(f"{RAW_SCHEMA}.")]

    @property
    def suites(self) -> list[str]:
        return sorted({result.suite for result in self.results})

    def raise_for_failed_marts(self) -> None:
        """Raise :class:`MartExpectationsFailed` naming every failed mart expectation."""
        failed = self.failed_marts
        if not failed:
            return
        lines = [result.describe() for result in failed]
        docs = f"\nData Docs: {self.data_docs_index}" if self.data_docs_index else ""
        raise MartExpectationsFailed(
            f"{len(failed)} mart expectation(s) failed for {self.run_date} "
            f"(run {self.run_id}):\n" + "\n".join(lines) + docs
        )


@dataclass(frozen=True)
class SuiteDefinition:
    """A suite file as read from ``expectations/`` and what it validates."""

    name: str
    relation: str
    key_columns: tuple[str, ...]
    query: str
    data: dict[str, Any]
    path: Path
    # A date column: when the run's rebuild window is known, only rows from its first day
    # on are validated (older rows were validated by the runs that wrote them and are
    # unchanged: raw is append-only and the marts replace only that window).
    window_column: str | None = None

    @property
    def is_derived(self) -> bool:
        return self.name.endswith(DERIVED_SUFFIX)

    @property
    def asset_name(self) -> str:
        return f"{self.relation}{DERIVED_SUFFIX}" if self.is_derived else self.relation


def load_suite_definitions(directory: Path = EXPECTATIONS_DIR) -> list[SuiteDefinition]:
    """Every suite JSON file in ``directory``, checked; raw suites first, then the marts."""
    definitions = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SuiteDefinitionError(f"{path}: not valid JSON ({error})") from error
        name = data.get("name")
        if name != path.stem:
            raise SuiteDefinitionError(f"{path}: suite name {name!r} must be {path.stem!r}")
        meta = (data.get("meta") or {}).get("bluezone") or {}
        relation = meta.get("relation", "")
        if not RELATION_PATTERN.match(relation):
            raise SuiteDefinitionError(
                f"{path}: meta.bluezone.relation must be raw.<table> or marts.<table>, "
                f"got {relation!r}"
            )
        if name.endswith(DERIVED_SUFFIX):
            query = f"select * from {derived_relation(relation)}"
        else:
            query = f"select * from {relation}"
        if not isinstance(data.get("expectations"), list) or not data["expectations"]:
            raise SuiteDefinitionError(f"{path}: expected a non-empty list of expectations")
        definitions.append(
            SuiteDefinition(
                name=name,
                relation=relation,
                key_columns=tuple(meta.get("key_columns", ())),
                query=query,
                data=data,
                path=path,
                window_column=None if name.endswith(DERIVED_SUFFIX) else meta.get("window_column"),
            )
        )
    if not definitions:
        raise SuiteDefinitionError(f"no suite files (*.json) in {directory}")
    return sorted(definitions, key=lambda d: (not d.relation.startswith("raw."), d.name))


def _read_frame(
    con: duckdb.DuckDBPyConnection,
    definition: SuiteDefinition,
    window_start: date | None = None,
) -> pd.DataFrame:
    """The DataFrame a suite validates, DATE columns as ``datetime.date`` (not Timestamps):
    the rows from ``window_start`` on when the suite has a window column."""
    query, parameters = definition.query, {}
    if window_start is not None and definition.window_column:
        query = f'select * from ({query}) where "{definition.window_column}" >= $window_start'
        parameters["window_start"] = window_start
    return con.sql(query, params=parameters or None).df(date_as_object=True)


def rebuild_window_start(con: duckdb.DuckDBPyConnection, run_id: str) -> date | None:
    """The first day the run's build replaced (``ops.builds``), or None if it built none."""
    try:
        rows = con.execute(
            "select rebuild_from from ops.builds where run_id = ? "
            "order by finished_at desc limit 1",
            [run_id],
        ).fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def _existing_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    return {name for (name,) in rows}


def _unreadable(definition: SuiteDefinition, details: str) -> ExpectationResult:
    return ExpectationResult(
        suite=definition.name,
        relation=definition.relation,
        expectation="read_relation",
        column=None,
        success=False,
        observed_value=None,
        details=_clip(details),
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_plain(item) for item in value) + ")"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_plain(item)}" for key, item in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _condition(condition: Any) -> str:
    """A row condition as text: ``status != late``, ``check_id NOT_IN (a, b)``."""
    if hasattr(condition, "dict"):
        condition = condition.dict()
    if not isinstance(condition, dict):
        return str(condition)
    if condition.get("type") == "comparison":
        column = condition["column"]["name"]
        return f"{column} {condition['operator']} {_plain(condition['parameter'])}"
    if condition.get("type") == "nullity":
        column = condition["column"]["name"]
        return f"{column} is {'' if condition.get('is_null') else 'not '}null"
    if condition.get("type") in ("and", "or"):
        joiner = f" {condition['type']} "
        return "(" + joiner.join(_condition(c) for c in condition.get("conditions", [])) + ")"
    return json.dumps(condition, default=str)


COLUMN_KWARGS = ("column", "column_list", "column_A", "column_B", "batch_id", "row_condition")


def _column(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_list"):
        return ", ".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    return None


def _observed(result: dict[str, Any]) -> str | None:
    mismatched = (result.get("details") or {}).get("mismatched") or {}
    if mismatched.get("missing"):
        return _clip("missing columns: " + ", ".join(map(str, mismatched["missing"])))
    if "observed_value" in result:
        return _clip(_plain(result["observed_value"]))
    if "unexpected_count" not in result:
        return None
    count = result.get("unexpected_count") or 0
    total = result.get("element_count")
    text = f"{count} of {total} rows unexpected"
    values = result.get("partial_unexpected_counts") or [
        {"value": value, "count": 1} for value in result.get("partial_unexpected_list") or []
    ]
    if count and values:
        shown = [
            _plain(item["value"]) + (f" ×{item['count']}" if item.get("count", 1) > 1 else "")
            for item in values[:MAX_ROWS_SHOWN]
        ]
        text += ": " + ", ".join(shown)
    return _clip(text)


def _details(
    expectation: str,
    kwargs: dict[str, Any],
    result: dict[str, Any],
    notes: str | None,
    error: str | None,
) -> str:
    expected = {k: v for k, v in kwargs.items() if k not in COLUMN_KWARGS and v is not None}
    claim = expectation.removeprefix("expect_").replace("_", " ")
    parts = [f"expected {claim}" + (f": {_plain(expected)}" if expected else "")]
    if kwargs.get("row_condition"):
        parts[0] += f" where {_condition(kwargs['row_condition'])}"
    rows = list(
        dict.fromkeys(_plain(row) for row in result.get("partial_unexpected_index_list") or [])
    )
    if rows and result.get("unexpected_count"):
        parts.append("rows: " + "; ".join(rows[:MAX_ROWS_SHOWN]))
    if error:
        parts.append(f"could not evaluate: {error}")
    if notes:
        parts.append(f"why: {notes}")
    return _clip("; ".join(parts))


def _to_result(definition: SuiteDefinition, validation: Any) -> ExpectationResult:
    config = validation.expectation_config
    kwargs = dict(config.kwargs)
    result = dict(validation.result or {})
    info = validation.exception_info or {}
    if info and not info.get("raised_exception", True):
        info = {}
    if info and "exception_message" not in info:  # keyed by metric when a metric failed
        info = next(iter(info.values()), {})
    error = info.get("exception_message") if info.get("raised_exception") else None
    notes = (config.meta or {}).get("notes")
    kind = (config.meta or {}).get("kind", STRUCTURAL)
    return ExpectationResult(
        suite=definition.name,
        relation=definition.relation,
        expectation=config.type,
        column=_column(kwargs),
        success=bool(validation.success),
        observed_value=_observed(result),
        details=_details(
            config.type, kwargs, result, notes if isinstance(notes, str) else None, error
        ),
        kind=kind if kind in KINDS else STRUCTURAL,
    )


def import_gx() -> Any:
    """Great Expectations, imported with its logger at WARNING (its INFO lines are noise)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


def _clear_docs(docs_dir: Path) -> None:
    """Remove what an earlier build left in ``docs_dir`` (only GX's own files)."""
    for name in ("expectations", "validations", "static"):
        if (docs_dir / name).is_dir():
            shutil.rmtree(docs_dir / name)
    (docs_dir / "index.html").unlink(missing_ok=True)


def validate_warehouse(
    warehouse_path: Path,
    *,
    run_id: str,
    run_date: date,
    docs_dir: Path,
    expectations_dir: Path = EXPECTATIONS_DIR,
    units: str | None = None,
) -> ValidationSummary:
    """Validate the raw layer and the marts of ``warehouse_path`` with every suite.

    A suite with a ``window_column`` sees the rows from the first day the run's build
    replaced (``ops.builds``) on, or every row when the run built nothing. Opens the
    warehouse read-only just long enough to read each relation, validates each
    with its suite (``run_date`` passed as the suite parameter of that name), and builds
    GX Data Docs as static HTML in ``docs_dir`` (its earlier Data Docs are replaced). GX's
    own project lives in memory (an ephemeral context). Writes nothing to the
    warehouse: store the results with :func:`store_results` through the writer.
    """
    definitions = load_suite_definitions(expectations_dir)
    parameters = {
        RUN_DATE_PARAMETER: run_date,
        **catalogue_parameters(),
        **unit_set_parameters(units),
    }
    validated_at = datetime.now(UTC)
    results: list[ExpectationResult] = []
    gx = import_gx()
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    docs_dir = docs_dir.resolve()
    docs_index: Path | None = None
    con = connect_reader(warehouse_path)
    try:
        existing = _existing_relations(con)
        window_start = rebuild_window_start(con, run_id)
    finally:
        con.close()
    if window_start is not None:
        log.info("validating rows from %s on (the run's rebuild window)", window_start)
    # GX's own project in memory: a file project writes its whole configuration again for
    # each asset added (about a second of a national day's 19 suites); the Data Docs site
    # is still written to docs_dir.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.data_docs_sites = {
        DOCS_SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    context.variables.save()
    source = context.data_sources.add_pandas("bluezone_warehouse")
    gx_run_id = RunIdentifier(run_name=safe_file_name(run_id), run_time=validated_at)
    # One relation in memory at a time: read, validate, let go.
    for definition in definitions:
        if definition.relation not in existing:
            results.append(
                _unreadable(definition, f"{definition.relation} is not in {warehouse_path}")
            )
            continue
        # The warehouse is open read-only just long enough to read each relation.
        con = connect_reader(warehouse_path)
        try:
            frame = _read_frame(con, definition, window_start)
        except duckdb.Error as error:
            results.append(_unreadable(definition, f"reading {definition.relation}: {error}"))
            continue
        finally:
            con.close()
        results.extend(_validate(gx, context, source, definition, frame, parameters, gx_run_id))
        del frame
    docs_dir.mkdir(parents=True, exist_ok=True)
    _clear_docs(docs_dir)
    try:
        context.build_data_docs(site_names=[DOCS_SITE])
        docs_index = docs_dir / "index.html"
    except Exception as error:  # Data Docs are a convenience: never lose the results
        log.warning("building Great Expectations Data Docs in %s failed: %s", docs_dir, error)
    summary = ValidationSummary(run_id, results, docs_index, run_date, validated_at)
    log.info(
        "validated %d suites, %d expectations: %d failed on marts, %d on raw",
        len(definitions),
        len(results),
        len(summary.failed_marts),
        len(summary.failed_raw),
    )
    return summary


def _validate(
    gx,
    context,
    source,
    definition: SuiteDefinition,
    frame: pd.DataFrame,
    parameters: dict[str, Any],
    gx_run_id,
) -> list[ExpectationResult]:
    """Run one suite on its frame (results also kept in the GX project for Data Docs)."""
    suite = gx.ExpectationSuite(**definition.data)
    if len(suite.expectations) != len(definition.data["expectations"]):
        raise SuiteDefinitionError(
            f"{definition.path}: GX accepted only {len(suite.expectations)} of "
            f"{len(definition.data['expectations'])} expectations (its log says why)"
        )
    suite = context.suites.add(suite)
    batch = source.add_dataframe_asset(definition.asset_name).add_batch_definition_whole_dataframe(
        "whole"
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=definition.name, data=batch, suite=suite)
    )
    key_columns = [c for c in definition.key_columns if c in frame.columns]
    outcome = validation.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": MAX_ROWS_SHOWN,
            "unexpected_index_column_names": key_columns,
        },
        run_id=gx_run_id,
    )
    return [_to_result(definition, item) for item in outcome.results]


def store_results(con: duckdb.DuckDBPyConnection, summary: ValidationSummary) -> None:
    """Write ``summary`` as rows of ``ops.gx_results``, replacing the run's earlier rows."""
    rows = [
        (
            summary.run_id,
            summary.run_date,
            result.suite,
            result.relation,
            result.expectation,
            result.column,
            result.success,
            result.observed_value,
            result.details,
            summary.validated_at,
            result.kind,
        )
        for result in summary.results
    ]
    con.execute(GX_RESULTS_DDL)
    con.execute("begin")
    try:
        con.execute("delete from ops.gx_results where run_id = ?", [summary.run_id])
        if rows:
            con.executemany(
                f"insert into ops.gx_results ({', '.join(GX_RESULTS.column_names)}) "
                f"values ({', '.join('?' * len(GX_RESULTS.column_names))})",
                rows,
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
