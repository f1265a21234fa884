"""Crash safety: the ingesting process is killed (SIGKILL) between two files and in the
middle of one; a normal rerun then leaves exactly what an uninterrupted run leaves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import load_settings
from bluezone_warehouse.ingest import ingest_landing
from tests.conftest import environment_for, table_rows

VOLATILE = {"loaded_at", "first_seen_at", "detected_at", "run_id"}
TABLES = ("raw.landing_files", "raw.install_exports", "raw.unit_reports", "raw.rejected_rows")

_CRASHING_INGEST = """
import json, os, signal, sys
from bluezone_warehouse import ingest
from bluezone_warehouse.config import load_settings

env, crash_at, where = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
count = {"files": 0}
if where == "inside_a_large_file":
    # Rows are written and committed in chunks of 40: die after the third chunk's commit,
    # half-way through the large report (rows committed, no manifest entry yet).
    ingest.FLUSH_ROWS = 40
    original = ingest._Ingestor._flush
    def patched(self, batch):
        result = original(self, batch)
        count["files"] += 1
        if count["files"] == crash_at:
            self.con.commit()
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    ingest._Ingestor._flush = patched
elif where == "between_files":
    original = ingest._Ingestor._ingest_file
    def patched(self, landed, batch):
        if count["files"] == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        count["files"] += 1
        return original(self, landed, batch)
    ingest._Ingestor._ingest_file = patched
else:
    original = ingest._Ingestor._flush
    def patched(self, batch):
        count["files"] += 1
        if count["files"] == crash_at:
            # the batch's first rows are inserted, the transaction is open: die now
            self.con.execute("insert into raw.landing_files by name select * from "
                             "raw.landing_files limit 0")
            exports = ingest.tables.INSTALL_EXPORTS
            exports.insert(self.con, batch.rows[exports])
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, batch)
    ingest._Ingestor._flush = patched
ingest.ingest_landing(load_settings(env), run_id="crashing")
"""


def ingest_killed(env: dict[str, str], crash_at: int, where: str) -> None:
    """Run an ingestion in a child process that SIGKILLs itself at ``where``/``crash_at``."""
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASHING_INGEST, json.dumps(env), str(crash_at), where],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert crashed.returncode == -9, crashed.stderr[-2000:]


def table_contents(warehouse: Path) -> dict[str, list[tuple]]:
    return table_rows(warehouse, TABLES, exclude=VOLATILE)


def settings_env(root: Path, landing: Path) -> dict[str, str]:
    """Own warehouse per run; one landing zone and one quarantine shared by all runs."""
    return {
        **environment_for(root),
        "BLUEZONE_LANDING_URL": str(landing),
        "BLUEZONE_QUARANTINE_URL": str(landing.parent / "quarantine"),
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crash") / "landing"
    simulate_campaign(
        out,
        start=date(2020, 8, 1),
        end=date(2020, 8, 8),
        provinces=["30", "89"],
        seed=5,
        faults=FaultRates(),
    )
    shutil.rmtree(out / "_simulation")
    return out


@pytest.fixture(scope="module")
def reference(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    env = settings_env(tmp_path_factory.mktemp("crash-reference"), landing)
    ingest_landing(load_settings(env), run_id="reference")
    return table_contents(Path(env["BLUEZONE_WAREHOUSE_PATH"]))


@pytest.mark.parametrize(("where", "crash_at"), [("between_files", 70), ("inside_a_batch", 4)])
def test_a_killed_ingest_loses_and_duplicates_nothing(
    landing: Path, reference: dict, tmp_path: Path, where: str, crash_at: int
) -> None:
    env = {**settings_env(tmp_path, landing), "BLUEZONE_INGEST_BATCH_FILES": "25"}
    ingest_killed(env, crash_at, where)
    warehouse = Path(env["BLUEZONE_WAREHOUSE_PATH"])
    partial = table_contents(warehouse)
    committed = len(partial["raw.landing_files"])
    assert 0 < committed < len(reference["raw.landing_files"])
    assert committed % 25 == 0  # only whole batches were committed
    ingest_landing(load_settings(env), run_id="after-crash")
    assert table_contents(warehouse) == reference


def test_three_runs_leave_identical_tables(landing: Path, reference: dict, tmp_path: Path) -> None:
    settings = load_settings(settings_env(tmp_path, landing))
    for run in range(3):
        ingest_landing(settings, run_id=f"run-{run}")
        assert table_contents(settings.warehouse_path) == reference


def test_a_run_killed_inside_a_large_file_leaves_nothing_the_next_run_keeps(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing"
    report = landing / "reports" / "large.csv"
    report.parent.mkdir(parents=True)
    lines = [
        f"05/08/2020,{code},05/08/2020 15:{n % 60:02d},{n}"
        for n, code in enumerate(["288", "290", "291"] * 100)
    ]
    report.write_text(
        "Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    stamp = datetime(2020, 8, 5, 9, tzinfo=UTC).timestamp()
    os.utime(report, (stamp, stamp))
    env = settings_env(tmp_path / "crashed", landing)
    ingest_killed(env, 3, "inside_a_large_file")
    warehouse = Path(env["BLUEZONE_WAREHOUSE_PATH"])
    partial = table_contents(warehouse)
    assert partial["raw.landing_files"] == []
    assert 0 < len(partial["raw.unit_reports"]) < 300  # chunks committed, file unfinished
    ingest_landing(load_settings(env), run_id="after-crash")
    reference_env = settings_env(tmp_path / "reference", landing)
    ingest_landing(load_settings(reference_env), run_id="reference")
    after = table_contents(warehouse)
    assert len(after["raw.unit_reports"]) == 300
    assert after == table_contents(Path(reference_env["BLUEZONE_WAREHOUSE_PATH"]))
