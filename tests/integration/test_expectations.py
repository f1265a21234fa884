"""Great Expectations on a real warehouse: a clean 2-province x 8-day campaign passes every
suite, the results become rows of ``ops.gx_results`` (once per run, however often stored),
Data Docs are built, and a deliberately broken mart fails exactly the expectations it
should, while a broken raw row is recorded apart from the marts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import EXPECTATIONS_DIR, load_settings
from bluezone_warehouse.pipeline import run_daily
from bluezone_warehouse.quality.expectations import (
    MartExpectationsFailed,
    ValidationSummary,
    store_results,
    validate_warehouse,
)
from tests.conftest import environment_for

PROVINCES = ["30", "89"]
START, END = date(2020, 8, 1), date(2020, 8, 8)
RUN_ID = "manual__2020-08-09T02:00:00+07:00"


def suite_files() -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(EXPECTATIONS_DIR.glob("*.json"))
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gx")
    env = environment_for(root)
    simulate_campaign(
        Path(env["BLUEZONE_LANDING_URL"]),
        start=START,
        end=END,
        provinces=PROVINCES,
        seed=5,
        faults=FaultRates.none(),
    )
    settings = load_settings(env)
    run_daily(settings, END, run_id=RUN_ID)
    return settings.warehouse_path


@pytest.fixture(scope="module")
def clean(warehouse: Path) -> ValidationSummary:
    return validate_warehouse(
        warehouse, run_id=RUN_ID, run_date=END, docs_dir=warehouse.parent / "gx_docs"
    )


def test_the_suites_cover_every_validated_relation() -> None:
    names = set(suite_files())
    relations = {"raw_install_exports", "raw_unit_reports"} | {
        f"marts_{mart}"
        for mart in (
            "dim_admin_units",
            "fct_coverage_daily",
            "fct_province_ranking",
            "fct_target_progress",
            "fct_reporting_compliance",
            "agg_reporting_rates",
            "fct_data_quality_issues",
            "fct_commune_installs_daily",
            "fct_coverage_2025_provinces",
            "fct_installs_2025_communes",
            "fct_deliveries",
            "fct_province_consolidation",
        )
    }
    assert relations <= names
    assert {name for name in names - relations if not name.endswith("_daily_counts")} == set()


def test_every_suite_runs_and_passes_on_clean_data(clean: ValidationSummary) -> None:
    files = suite_files()
    assert clean.suites == sorted(files)
    ran = {name: sum(1 for r in clean.results if r.suite == name) for name in files}
    assert ran == {name: len(data["expectations"]) for name, data in files.items()}
    assert [r.describe() for r in clean.results if not r.success] == []
    assert clean.failed_marts == [] and clean.failed_raw == []
    clean.raise_for_failed_marts()  # nothing to raise


def test_results_are_stored_once_per_run(warehouse: Path, clean: ValidationSummary) -> None:
    expected_rows = sum(len(data["expectations"]) for data in suite_files().values())
    assert len(clean.results) == expected_rows
    con = duckdb.connect(str(warehouse))
    try:
        store_results(con, clean)
        store_results(con, clean)  # a retried task
        count = "select count(*) from ops.gx_results where run_id = ?"
        assert con.execute(count, [RUN_ID]).fetchone()[0] == expected_rows
        row = con.execute(
            "select run_date, suite, relation, column_name, success, details, validated_at "
            "from ops.gx_results where run_id = ? and suite = 'marts_agg_reporting_rates' "
            "and expectation = 'expect_column_values_to_be_between' "
            "and column_name = 'reporting_rate'",
            [RUN_ID],
        ).fetchall()
        assert len(row) == 1
        run_date, suite, relation, column, success, details, validated_at = row[0]
        assert (run_date, relation, column, success) == (
            END,
            "marts.agg_reporting_rates",
            "reporting_rate",
            True,
        )
        assert "max_value=1" in details and validated_at is not None
        fewer = ValidationSummary(
            RUN_ID, clean.results[:3], None, clean.run_date, clean.validated_at
        )
        store_results(con, fewer)  # the run's rows are replaced, not added to
        assert con.execute(count, [RUN_ID]).fetchone()[0] == 3
        store_results(con, clean)
    finally:
        con.close()


def test_data_docs_list_every_suite(clean: ValidationSummary) -> None:
    assert clean.data_docs_index is not None and clean.data_docs_index.is_file()
    page = clean.data_docs_index.read_text(encoding="utf-8")
    for name in suite_files():
        assert name in page, name
    validations = clean.data_docs_index.parent / "validations"
    assert {path.name for path in validations.iterdir()} == set(suite_files())


def test_a_broken_mart_fails_exactly_its_expectations(warehouse: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copy(warehouse, broken)
    con = duckdb.connect(str(broken))
    try:
        con.execute(
            "update marts.agg_reporting_rates set reporting_rate = 1.5 "
            "where scope_code = '30' and report_date = '2020-08-03'"
        )
        duplicated = con.execute(
            "select unit_code from marts.fct_coverage_daily "
            "where level = 'district' and snapshot_date = '2020-08-05' "
            "order by unit_code limit 1"
        ).fetchone()[0]
        con.execute(
            "insert into marts.fct_coverage_daily select * from marts.fct_coverage_daily "
            "where level = 'district' and snapshot_date = '2020-08-05' and unit_code = ?",
            [duplicated],
        )
        # What the input did (an export row with more installs with a phone than installs)
        # is a data expectation: a warning, never a reason to withhold the marts.
        con.execute(
            "update marts.fct_coverage_daily set installs_with_phone = installs + 1 "
            "where level = 'district' and snapshot_date = '2020-08-05' and unit_code = ?",
            [duplicated],
        )
        # Check ids and severities come from the catalogue: a catalogued check passes, an
        # unknown id and a wrong severity fail.
        con.execute(
            "insert into marts.fct_data_quality_issues by name "
            "select * from (values ('x1', 'code_name_mismatch', 'error'), "
            "('x2', 'not_a_check', 'warn'), ('x3', 'late_report', 'error')) "
            "as flags(issue_id, check_id, severity), "
            "(select 'a message' as message, now() as detected_at)"
        )
        con.execute(
            "update raw.install_exports set installs = -1, installs_with_phone = null "
            "where rowid = (select min(rowid) from raw.install_exports where level = 'district')"
        )
    finally:
        con.close()

    summary = validate_warehouse(broken, run_id="broken", run_date=END, docs_dir=tmp_path / "docs")

    failed = {(r.suite, r.expectation, r.column): r for r in summary.failed_marts}
    rate = ("marts_agg_reporting_rates", "expect_column_values_to_be_between", "reporting_rate")
    duplicate = (
        "marts_fct_coverage_daily",
        "expect_compound_columns_to_be_unique",
        "snapshot_date, unit_code, level",
    )
    unknown_check = (
        "marts_fct_data_quality_issues",
        "expect_column_values_to_be_in_set",
        "check_id",
    )
    wrong_severity = (
        "marts_fct_data_quality_issues",
        "expect_column_pair_values_to_be_in_set",
        "check_id, severity",
    )
    assert set(failed) == {rate, duplicate, unknown_check, wrong_severity}
    assert "not_a_check" in failed[unknown_check].observed_value
    assert [(r.suite, r.expectation, r.column, r.kind) for r in summary.data_warnings] == [
        (
            "marts_fct_coverage_daily",
            "expect_column_pair_values_a_to_be_greater_than_b",
            "installs, installs_with_phone",
            "data",
        )
    ]
    assert "code_name_mismatch" not in failed[unknown_check].observed_value
    assert failed[rate].observed_value.endswith(": 1.5")
    assert "report_date=2020-08-03, scope_code=30" in failed[rate].details
    assert failed[duplicate].observed_value.endswith(f": (2020-08-05, {duplicated}, district) ×2")
    assert [(r.suite, r.expectation, r.column) for r in summary.failed_raw] == [
        ("raw_install_exports", "expect_column_values_to_be_between", "installs")
    ]
    with pytest.raises(MartExpectationsFailed) as raised:
        summary.raise_for_failed_marts()
    message = str(raised.value)
    assert "4 mart expectation(s) failed" in message
    assert "marts.agg_reporting_rates.reporting_rate observed 1 of" in message
    assert "marts.fct_coverage_daily (snapshot_date, unit_code, level)" in message
    assert "raw_install_exports" not in message


def test_importing_the_module_does_not_import_great_expectations() -> None:
    probe = (
        "import sys\n"
        "import bluezone_warehouse.quality.expectations\n"
        "print('great_expectations' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert completed.stdout.strip() == "False"
