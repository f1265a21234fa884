"""A data-quality flag found again on a rerun is the same row: same issue_id, and detected_at
keeps when it was first found; a flag that appears later gets its own, later, time."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb

from bluezone_warehouse.config import load_settings
from bluezone_warehouse.pipeline import run_daily
from tests.conftest import environment_for

HEADER = "snapshot_date,level,unit_code,installs,installs_with_phone\n"


def issues(settings) -> dict[tuple, tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "select check_id, unit_code, day, issue_id, detected_at, message "
            "from marts.fct_data_quality_issues "
            # An export of one province lacks the other 62 and the province's districts
            # every day: export_incomplete is tested with the export checks.
            "where check_id not in ('missing_report', 'export_incomplete')"
        ).fetchall()
    finally:
        con.close()
    return {
        (check, unit, day): (issue_id, detected, message)
        for check, unit, day, issue_id, detected, message in rows
    }


def test_flags_keep_their_identity_and_first_detection(tmp_path: Path) -> None:
    settings = load_settings(environment_for(tmp_path))
    installs = Path(settings.landing_url) / "installs"
    installs.mkdir(parents=True)
    (installs / "installs_20200801.csv").write_text(HEADER + "2020-08-01,province,89,1000,\n")
    (installs / "installs_20200803.csv").write_text(HEADER + "2020-08-03,province,89,900,\n")
    run_daily(settings, date(2020, 8, 3), run_id="first")
    first = issues(settings)
    assert set(first) == {
        ("stale_export", "VN", date(2020, 8, 2)),
        ("decreasing_cumulative", "89", date(2020, 8, 3)),
    }
    assert first[("decreasing_cumulative", "89", date(2020, 8, 3))][2] == (
        "An Giang: cumulative installs fell from 1000 on 01/08/2020 to 900 on 03/08/2020"
    )
    time.sleep(1.1)  # detected_at has second resolution
    run_daily(settings, date(2020, 8, 3), run_id="rerun", rebuild=True)
    assert issues(settings) == first
    time.sleep(1.1)
    (installs / "installs_20200804.csv").write_text(HEADER + "2020-08-04,province,89,800,\n")
    run_daily(settings, date(2020, 8, 4), run_id="next-day")
    later = issues(settings)
    for key, (issue_id, detected, _) in first.items():
        assert later[key][:2] == (issue_id, detected)
    new = later[("decreasing_cumulative", "89", date(2020, 8, 4))]
    assert new[1] > max(detected for _, detected, _ in first.values())
