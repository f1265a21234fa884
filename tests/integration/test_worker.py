"""Calls made in a process started before they are needed (DESIGN §8): a daily run's
ingestion and validation in worker processes give exactly what the run's own process would,
a failure arrives as the same exception with the worker's traceback, and a worker closed
unused leaves no process behind."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bluezone_warehouse.config import Settings
from bluezone_warehouse.pipeline import IMPORT_GX, VALIDATE, run_daily
from bluezone_warehouse.quality.expectations import SuiteDefinitionError, validate_warehouse
from bluezone_warehouse.worker import Worker
from tests.conftest import land, query

DAY = date(2020, 8, 2)
HEADER = "snapshot_date,level,unit_code,installs,installs_with_phone\n"
ARRIVED = datetime(2020, 8, 2, 9, 0, tzinfo=UTC)


def test_the_worker_processes_give_what_this_process_would(
    settings: Settings, tmp_path: Path
) -> None:
    land(
        settings,
        "installs/installs_20200801.csv",
        HEADER + "2020-08-01,province,89,900,\n",
        ARRIVED,
    )
    # more installs with a phone than installs: a raw-layer expectation fails
    land(
        settings,
        "installs/installs_20200802.csv",
        HEADER + "2020-08-02,province,89,1000,1200\n",
        ARRIVED,
    )
    run = run_daily(settings, DAY, run_id="daily")
    # the daily run ingested in a worker process: both files, their rows
    assert run.ingested["statuses"] == {"loaded": 2} and run.ingested["rows_loaded"] == 2
    assert query(settings, "select unit_code, installs from raw.install_exports order by all") == [
        ("89", 900),
        ("89", 1000),
    ]
    # it validated in a worker process and stored what it found
    stored = query(
        settings,
        "select count(*), count(*) filter (where not success) from ops.gx_results "
        "where run_id = 'daily'",
    )[0]
    assert stored[0] == run.checked["expectations"] > 0 and stored[1] >= 1

    request = {
        "warehouse_path": settings.warehouse_path,
        "run_id": "daily",
        "run_date": DAY,
        "units": settings.units,
    }
    here = validate_warehouse(**request, docs_dir=tmp_path / "here")
    with Worker(VALIDATE, warm_up=IMPORT_GX) as validator:
        there = validator.call(**request, docs_dir=tmp_path / "there")
    assert there.results == here.results
    assert [r for r in there.failed_raw if r.column == "installs, installs_with_phone"]
    assert replace(there, data_docs_index=None, validated_at=None) == replace(
        here, data_docs_index=None, validated_at=None
    )
    assert there.data_docs_index == tmp_path / "there" / "index.html"
    assert there.data_docs_index.exists()


def test_a_failure_in_a_worker_arrives_as_its_own_exception(
    settings: Settings, tmp_path: Path
) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "broken.json").write_text("{ not json")
    with Worker(VALIDATE) as validator, pytest.raises(SuiteDefinitionError) as raised:
        validator.call(
            warehouse_path=settings.warehouse_path,
            run_id="r",
            run_date=DAY,
            docs_dir=tmp_path / "docs",
            expectations_dir=suites,
        )
    assert f"{suites / 'broken.json'}: not valid JSON" in str(raised.value)
    assert any(
        "in the worker process" in note and "load_suite_definitions" in note
        for note in raised.value.__notes__
    )


def test_a_worker_closed_unused_leaves_no_process() -> None:
    worker = Worker(VALIDATE, warm_up=IMPORT_GX)
    worker.close()
    with pytest.raises(ProcessLookupError):
        os.kill(worker.pid, 0)


def test_a_started_call_runs_before_its_answer_is_asked_for(tmp_path: Path) -> None:
    source, copy = tmp_path / "source.txt", tmp_path / "copy.txt"
    source.write_text("the snapshot is published meanwhile")
    with Worker("shutil:copyfile") as worker:
        worker.start(src=source, dst=copy)
        waited = 0
        while not copy.exists() and waited < 600:  # the worker copies while this one waits
            time.sleep(0.1)
            waited += 1
        assert copy.read_text() == "the snapshot is published meanwhile"
        with pytest.raises(RuntimeError, match="started with other arguments"):
            worker.call(src=source, dst=tmp_path / "elsewhere.txt")
        assert worker.call(src=source, dst=copy) == copy
        with pytest.raises(RuntimeError, match="started already"):
            worker.start(src=source, dst=copy)
    assert not (tmp_path / "elsewhere.txt").exists()
