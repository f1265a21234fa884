"""The published snapshot BI reads: never blocks the pipeline, never seen half-written, safe
to open in a spreadsheet, and readable by a client other than the pipeline's own code."""

from __future__ import annotations

import csv
import functools
import json
import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy
import yaml
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from bluezone_warehouse.config import PROJECT_DIR, Settings, load_settings
from bluezone_warehouse.pipeline import build, check, ingest, publish, run_daily
from bluezone_warehouse.quality.expectations import MartExpectationsFailed
from bluezone_warehouse.warehouse import PERSONAL_DATA_COLUMNS, wait_for_workbooks, withdraw
from bluezone_warehouse.warehouse import publish as publish_snapshot
from tests.conftest import environment_for

# DESIGN §4.1: the columns BI relies on (more may be added, none renamed or dropped).
CONTRACT = {
    "dim_admin_units": {
        "unit_code",
        "level",
        "parent_code",
        "name",
        "name_ascii",
        "population_total",
        "population_15plus",
        "population_18plus",
        "smartphone_owners_est",
        "denominator_vintage",
    },
    "fct_coverage_daily": {
        "snapshot_date",
        "unit_code",
        "level",
        "installs",
        "installs_with_phone",
        "new_installs",
        "new_installs_7d_avg",
        "coverage_population",
        "coverage_adults_15plus",
        "coverage_smartphone_owners",
        "is_over_100",
    },
    "fct_province_ranking": {
        "snapshot_date",
        "province_code",
        "rank_by_coverage",
        "rank_by_installs",
        "rank_change",
        "is_below_10pct",
    },
    "fct_target_progress": {
        "snapshot_date",
        "target_id",
        "scope_code",
        "metric",
        "threshold",
        "due_date",
        "current_value",
        "gap_installs",
        "days_left",
        "needed_per_day",
        "projected_date",
        "is_on_track",
        "is_met",
    },
    "fct_reporting_compliance": {
        "report_date",
        "unit_code",
        "unit_name",
        "province_code",
        "district_code",
        "deadline_at",
        "submitted_at",
        "status",
        "status_at_deadline",
        "minutes_late",
        "submissions_count",
        "installs_reported",
        "staff_total",
        "staff_installed",
    },
    "agg_reporting_rates": {
        "report_date",
        "scope_code",
        "expected_reports",
        "actual_reports",
        "on_time_reports",
        "reporting_rate",
        "on_time_rate",
    },
    "fct_data_quality_issues": {
        "issue_id",
        "check_id",
        "severity",
        "unit_code",
        "province_code",
        "day",
        "observed",
        "expected",
        "message",
        "source_file",
        "detected_at",
    },
    "fct_province_consolidation": {
        "report_date",
        "province_code",
        "unit_code",
        "unit_name",
        "installs_reported",
        "installs_export",
        "export_day",
        "coverage_population",
        "sent_at_local",
        "status",
        "as_of_local",
    },
    "fct_deliveries": {
        "received_at",
        "sent_at",
        "unit_code",
        "report_date",
        "source_file",
        "outcome",
        "reason",
    },
}


# Every mart: the contract's, and those DESIGN §4.1 does not list.
MARTS = set(CONTRACT) | {
    "fct_commune_installs_daily",
    "fct_coverage_2025_provinces",
    "fct_installs_2025_communes",
}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("publish")
    # the workbooks as in production: written after the swap by a process of their own
    settings = load_settings({**environment_for(root), "BLUEZONE_WORKBOOKS": "after"})
    landing = Path(settings.landing_url)
    (landing / "installs").mkdir(parents=True)
    (landing / "reports").mkdir(parents=True)
    (landing / "installs" / "installs_20200804.csv").write_text(
        "snapshot_date,level,unit_code,installs,installs_with_phone\n"
        "2020-08-04,province,30,1000,\n2020-08-04,district,288,400,\n"
    )
    (landing / "reports" / "hai-duong.csv").write_text(
        "Ngày báo cáo,Mã đơn vị,Số lượng cài đặt\n04/08/2020,288,=SUM(A1:A2)\n04/08/2020,290,120\n"
    )
    run_daily(settings, date(2020, 8, 4), run_id="first")
    # A correction arrives: the next snapshot is the first one with the changed rows
    # replaced (copy-on-write), and every test below reads that one.
    (landing / "reports" / "hai-duong-2.csv").write_text(
        "Ngày báo cáo,Mã đơn vị,Số lượng cài đặt\n04/08/2020,290,130\n"
    )
    run_daily(settings, date(2020, 8, 4), run_id="corrected")
    # the snapshot's workbooks follow it in a process of their own: every test sees them
    assert all(code == 0 for code in wait_for_workbooks())
    return settings


def current(settings: Settings) -> Path:
    return settings.publish_dir / "current" / "bluezone_marts.duckdb"


def test_a_real_client_reads_the_documented_columns(published: Settings) -> None:
    engine = sqlalchemy.create_engine(
        f"duckdb:///{current(published)}", connect_args={"read_only": True}
    )
    with engine.connect() as connection:
        found: dict[str, set[str]] = {}
        for table, column in connection.execute(
            sqlalchemy.text(
                "select table_name, column_name from information_schema.columns "
                "where table_schema = 'marts'"
            )
        ):
            found.setdefault(table, set()).add(column)
        rows = connection.execute(
            sqlalchemy.text(
                "select unit_code, installs from marts.fct_coverage_daily where level = 'province'"
            )
        ).fetchall()
    for table, columns in CONTRACT.items():
        assert columns <= found.get(table, set()), (table, columns - found.get(table, set()))
    engine.dispose()
    assert [tuple(row) for row in rows] == [("30", 1000)]


def test_csv_cells_that_look_like_formulas_are_neutralised(published: Settings) -> None:
    folder = current(published).parent
    assert {p.stem for p in (folder / "csv").glob("*.csv")} >= set(CONTRACT)
    with (folder / "csv" / "fct_data_quality_issues.csv").open(encoding="utf-8") as handle:
        observed = [row["observed"] for row in csv.DictReader(handle)]
    assert "'=SUM(A1:A2)" in observed
    assert "=SUM(A1:A2)" not in observed
    con = duckdb.connect()
    parquet = con.execute(
        "select observed from read_parquet(?) where check_id = 'malformed_file'",
        [str(folder / "parquet" / "fct_data_quality_issues.parquet")],
    ).fetchall()
    assert parquet == [("=SUM(A1:A2)",)]  # Parquet keeps the value as it was
    assert all(not p.stat().st_mode & 0o222 for p in folder.rglob("*") if p.is_file())


def _labels_vi() -> dict[str, dict[str, str]]:
    """The Vietnamese label of each mart column, as the marts' dbt properties give it."""
    labels: dict[str, dict[str, str]] = {}
    for path in (PROJECT_DIR / "dbt_project" / "models" / "marts").glob("*.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models") or []:
            labels[model["name"]] = {
                column["name"]: ((column.get("config") or {}).get("meta") or {}).get("label_vi")
                for column in model.get("columns") or []
            }
    return labels


def _descriptions() -> dict[str, str]:
    path = PROJECT_DIR / "dbt_project" / "models" / "marts" / "_marts__models.yml"
    models = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
    return {model["name"]: " ".join(model["description"].split()) for model in models}


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"}
_HALF_MS = timedelta(microseconds=500)


def _check_cell(cell, text: str, data_type: str, where: str) -> None:
    """A workbook cell against the CSV field of the same row and column (DuckDB's text)."""
    value = cell.value
    if text == "":  # NULL (an empty string, too, is an empty cell)
        assert value is None, where
    elif data_type == "VARCHAR":
        # the CSV's apostrophe before text that starts like a formula is not part of it
        if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
            text = text[1:]
        assert (value, cell.data_type) == (text, "s"), where
    elif data_type == "BOOLEAN":
        assert (value, cell.data_type) == ({"true": True, "false": False}[text], "b"), where
    elif data_type in _INTEGERS:
        assert type(value) is int and value == int(text), where
    elif data_type == "DOUBLE":
        assert type(value) in (int, float) and value == float(text), where
    elif data_type == "DATE":
        assert cell.is_date and value == datetime.fromisoformat(text), where
    elif data_type.startswith("TIMESTAMP"):
        expected = datetime.fromisoformat(text)
        if expected.tzinfo is not None:  # an instant: the workbook holds it in UTC
            expected = expected.astimezone(UTC).replace(tzinfo=None)
        # Excel holds times to the millisecond
        assert cell.is_date and value.microsecond % 1000 == 0, where
        assert abs(value - expected) <= _HALF_MS, where
    else:
        raise AssertionError(f"{where}: no rule for a {data_type} column")


def test_every_mart_is_a_workbook_that_agrees_with_its_csv(published: Settings) -> None:
    """xlsx/<mart>.xlsx beside csv/<mart>.csv: the same rows in the same order, every cell
    of its type, the CSV's column names then the Vietnamese labels of the dbt properties
    as the two frozen header rows, and a README sheet from the dbt descriptions."""
    assert all(code == 0 for code in wait_for_workbooks())
    folder = current(published).resolve().parent
    con = duckdb.connect(str(folder / "bluezone_marts.duckdb"), read_only=True)
    try:
        types = {}
        for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'marts' order by table_name, column_index"
        ).fetchall():
            types.setdefault(table, {})[column] = data_type
    finally:
        con.close()
    assert {p.stem for p in (folder / "xlsx").glob("*.xlsx")} == set(types)
    assert {p.stem for p in (folder / "csv").glob("*.csv")} == set(types)
    assert [p.name for p in (folder / "xlsx").iterdir() if p.name.startswith(".")] == []
    labels, descriptions = _labels_vi(), _descriptions()
    unlabelled = [
        f"{table}.{column}"
        for table, columns in types.items()
        for column in columns
        if not labels.get(table, {}).get(column)
    ]
    assert unlabelled == [], "add config.meta.label_vi in dbt_project/models/marts/*.yml"

    for table, columns in types.items():
        with (folder / "csv" / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            header, *lines = list(csv.reader(handle))
        assert header == list(columns)
        book = load_workbook(folder / "xlsx" / f"{table}.xlsx")
        assert book.sheetnames == [table, "README"]  # no mart here is near the row limit
        sheet = book[table]
        rows = list(sheet.iter_rows())
        assert [cell.value for cell in rows[0]] == header
        assert [cell.value for cell in rows[1]] == [labels[table][c] for c in header]
        assert sheet.freeze_panes == "A3"
        last = get_column_letter(len(header))
        assert sheet.auto_filter.ref == f"A2:{last}{2 + max(len(lines), 1)}"
        assert all(
            sheet.column_dimensions[get_column_letter(i)].width >= 8
            for i in range(1, len(header) + 1)
        )
        assert len(rows) - 2 == len(lines), table
        for number, (row, line) in enumerate(zip(rows[2:], lines, strict=True), 1):
            for name, cell, text in zip(header, row, line, strict=True):
                _check_cell(cell, text, columns[name], f"{table} row {number} {name}")
        readme = [[cell.value for cell in row] for row in book["README"].iter_rows()]
        assert readme[1][1] == descriptions[table]
        # a mart the correction left alone keeps the first snapshot's workbook (linked),
        # which says so; a changed one is written for this snapshot
        first = folder.parent / "20200804-first" / "xlsx" / f"{table}.xlsx"
        reused = first.exists() and first.samefile(folder / "xlsx" / f"{table}.xlsx")
        written_for = "20200804-first" if reused else folder.name
        assert readme[3][1] == written_for
        assert readme[4][1] == "2020-08-04"
        if table in ("fct_reporting_compliance", "dim_admin_units"):
            assert reused == (table == "dim_admin_units"), table
        by_column = {row[0]: row[1:3] for row in readme[9:]}
        assert by_column == {c: [labels[table][c], columns[c]] for c in columns}


def test_no_workbook_carries_personal_data(published: Settings) -> None:
    """No contact column in any header row, and no contact of the registry in any cell."""
    wait_for_workbooks()
    folder = current(published).resolve().parent
    with (PROJECT_DIR / "seeds" / "reporting_units.csv").open(encoding="utf-8") as handle:
        units = list(csv.DictReader(handle))
    emails = {u[c] for u in units for c in ("contact_email", "escalation_email") if u[c]}
    phones = {re.sub(r"\D", "", u["contact_phone"]) for u in units if u["contact_phone"]}
    assert len(emails) > 1000 and len(phones) > 500
    workbooks = sorted((folder / "xlsx").glob("*.xlsx"))
    assert {path.stem for path in workbooks} == MARTS
    texts = []
    for path in workbooks:
        book = load_workbook(path, read_only=True)
        for sheet in book:
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                if number <= 2 and sheet.title != "README":
                    assert not set(PERSONAL_DATA_COLUMNS) & set(row), (path.name, row)
                texts += [value for value in row if isinstance(value, str)]
        book.close()
    text = "\n".join(texts)
    assert not emails & set(re.findall(r"[\w.+-]+@[\w.-]+", text))
    assert not phones & set(re.findall(r"\d{9,12}", re.sub(r"[ .()+-]", "", text)))


def test_a_reader_holding_the_snapshot_does_not_stop_the_next_run(published: Settings) -> None:
    reader = duckdb.connect(str(current(published)), read_only=True)
    before = reader.execute("select count(*) from marts.fct_coverage_daily").fetchone()
    run = run_daily(published, date(2020, 8, 4), run_id="second", rebuild=True)
    assert (
        Path(run.snapshot).resolve()
        != Path(
            reader.execute(
                "select path from duckdb_databases() where database_name = current_database()"
            ).fetchone()[0]
        ).resolve()
    )
    assert reader.execute("select count(*) from marts.fct_coverage_daily").fetchone() == before
    reader.close()


def test_readers_during_publish_see_a_whole_snapshot(published: Settings) -> None:
    seen: list[tuple] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                con = duckdb.connect(str(current(published)), read_only=True)
                tables = con.execute(
                    "select count(*) from information_schema.tables where table_schema = 'marts'"
                ).fetchone()[0]
                rows = con.execute("select count(*) from marts.dim_admin_units").fetchone()[0]
                con.close()
                seen.append((tables, rows))
            except BaseException as err:  # any failure to open or read is a finding
                errors.append(err)

    thread = threading.Thread(target=read)
    thread.start()
    for attempt in range(3):
        publish(published, date(2020, 8, 4), f"republish-{attempt}")
    stop.set()
    thread.join()
    assert errors == []
    assert len(seen) > 3
    # every mart, every unit: never a partial one
    assert set(seen) == {(len(MARTS), 777)}


def test_a_failed_structural_expectation_withdraws_the_snapshot(tmp_path: Path) -> None:
    """Great Expectations validates the snapshot once it is published; a failed structural
    expectation on a mart takes it away from BI again, back to the snapshot it replaced."""
    settings = load_settings(environment_for(tmp_path))
    installs = Path(settings.landing_url) / "installs"
    installs.mkdir(parents=True)
    header = "snapshot_date,level,unit_code,installs,installs_with_phone\n"
    (installs / "installs_20200801.csv").write_text(header + "2020-08-01,province,89,1000,\n")
    run_daily(settings, date(2020, 8, 1), run_id="good")
    (installs / "installs_20200802.csv").write_text(header + "2020-08-02,province,89,1100,\n")
    ingest(settings, "broken")
    build(settings, date(2020, 8, 2), "broken")
    con = duckdb.connect(str(settings.warehouse_path))
    try:  # a duplicated key: the warehouse's own invariant broken after dbt's tests ran
        con.execute(
            "insert into marts.fct_coverage_daily select * from marts.fct_coverage_daily "
            "where snapshot_date = '2020-08-02' and level = 'province'"
        )
    finally:
        con.close()
    publish(settings, date(2020, 8, 2), "broken")
    link = settings.publish_dir / "current"
    assert link.resolve().name == "20200802-broken"

    with pytest.raises(MartExpectationsFailed) as raised:
        check(settings, date(2020, 8, 2), "broken")

    assert "marts.fct_coverage_daily (snapshot_date, unit_code, level)" in str(raised.value)
    assert raised.value.__notes__ == [
        "snapshot 20200802-broken withdrawn: BI is back on snapshot 20200801-good"
    ]
    assert link.resolve().name == "20200801-good"
    snapshots = settings.publish_dir / "snapshots"
    assert not (snapshots / "20200802-broken").exists()
    assert (snapshots / ".withdrawn-20200802-broken").is_dir()  # kept to inspect
    reader = duckdb.connect(str(current(settings)), read_only=True)
    try:
        days = reader.execute("select max(snapshot_date) from marts.fct_coverage_daily").fetchone()
    finally:
        reader.close()
    assert days == (date(2020, 8, 1),)


def test_a_validation_that_cannot_run_withdraws_the_snapshot_too(tmp_path: Path) -> None:
    """A snapshot Great Expectations could not validate is not left to BI either."""
    settings = load_settings(environment_for(tmp_path))
    installs = Path(settings.landing_url) / "installs"
    installs.mkdir(parents=True)
    header = "snapshot_date,level,unit_code,installs,installs_with_phone\n"
    (installs / "installs_20200801.csv").write_text(header + "2020-08-01,province,89,1000,\n")
    ingest(settings, "unvalidated")
    build(settings, date(2020, 8, 1), "unvalidated")
    publish(settings, date(2020, 8, 1), "unvalidated")
    # The warehouse held open by another writer: the validation cannot read it.
    holder = duckdb.connect(str(settings.warehouse_path), config={"threads": 1})
    try:
        with pytest.raises(duckdb.Error) as raised:
            check(settings, date(2020, 8, 1), "unvalidated")
    finally:
        holder.close()
    assert raised.value.__notes__ == [
        "snapshot 20200801-unvalidated withdrawn: BI is back on no snapshot (there was none before)"
    ]
    assert not (settings.publish_dir / "current").is_symlink()


def test_bi_goes_back_to_the_snapshot_the_withdrawn_one_replaced(tmp_path: Path) -> None:
    """Never to another withdrawn snapshot, nor to a backfill written later."""
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts; create table marts.t as select 1 as a")
    con.close()
    publish_dir = tmp_path / "publish"
    snapshot = functools.partial(publish_snapshot, warehouse, publish_dir)
    current = publish_dir / "current"

    snapshot("20200801-good")
    snapshot("20200802-bad")
    assert withdraw(publish_dir, "20200802-bad") == "20200801-good"
    snapshot("20200802-retry")  # fails too
    snapshot("20200731-backfill")  # written later, an older day: never current
    assert current.resolve().name == "20200802-retry"
    assert withdraw(publish_dir, "20200802-retry") == "20200801-good"
    assert current.resolve().name == "20200801-good"
    # the last three kept, withdrawn ones pruned first, never the one BI would go back to
    assert sorted(p.name for p in (publish_dir / "snapshots").iterdir() if p.is_dir()) == [
        ".withdrawn-20200802-retry",
        "20200731-backfill",
        "20200801-good",
    ]
    # a snapshot that replaced none: BI is left with none rather than a withdrawn one
    only = tmp_path / "only"
    publish_snapshot(warehouse, only, "20200801-only")
    assert withdraw(only, "20200801-only") is None
    assert not (only / "current").is_symlink()


DUCKDB_1X = "1.0.0"  # the oldest 1.x; BI tools bundle DuckDB 1.x (Superset's engine, Harlequin)
_COUNT_EVERY_MART = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [t for (t,) in con.execute(
    "select table_name from information_schema.tables where table_schema = 'marts' "
    "order by table_name").fetchall()]
print(json.dumps({"version": duckdb.__version__, "counts": {
    t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables},
    "coverage": [list(map(str, row)) for row in con.execute(
        "select * from marts.fct_coverage_daily order by all").fetchall()]}))
"""


def test_a_duckdb_1x_client_opens_the_snapshot(published: Settings, tmp_path: Path) -> None:
    """The snapshot is written in a storage format DuckDB 1.x reads: a real DuckDB 1.0 in
    its own environment, built here from the package registry, opens it read-only and sees
    every mart with the same rows as DuckDB 2.0."""
    uv = shutil.which("uv") or str(PROJECT_DIR / ".tools" / "bin" / "uv")
    env_dir = tmp_path / "duckdb1"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env_dir)], check=True)
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(env_dir / "bin" / "python"),
            f"duckdb=={DUCKDB_1X}",
        ],
        check=True,
    )
    snapshot = current(published).resolve()
    completed = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", _COUNT_EVERY_MART, str(snapshot)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    seen = json.loads(completed.stdout)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by table_name"
            ).fetchall()
        ]
        counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables}
        coverage = [
            list(map(str, row))
            for row in con.execute("select * from marts.fct_coverage_daily order by all").fetchall()
        ]
    finally:
        con.close()
    assert seen["version"] == DUCKDB_1X
    assert seen["counts"] == counts and set(counts) >= set(CONTRACT)
    assert seen["coverage"] == coverage and coverage
