"""Ingestion ahead of the build (DESIGN §8): the landed files are loaded in a process of
their own while this one imports dbt and parses the project, which it keeps for its next
dbt command and saves for a build in another process (the ``ingest`` task of
``bluezone_daily`` and ``run_daily`` both do this)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from bluezone_warehouse import pipeline, transform
from bluezone_warehouse.config import Settings
from tests.conftest import land, query

HEADER = "snapshot_date,level,unit_code,installs,installs_with_phone\n"
ARRIVED = datetime(2020, 8, 2, 9, 0, tzinfo=UTC)


def test_files_load_in_another_process_while_this_one_parses_the_project(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    land(
        settings,
        "installs/installs_20200801.csv",
        HEADER + "2020-08-01,province,89,1000,\n",
        ARRIVED,
    )
    land(
        settings, "installs/installs_20200802.csv", HEADER + "2020-08-02,province,89,x,\n", ARRIVED
    )

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("ingestion ran in the calling process")

    # The worker process imports the module afresh: this process's ``ingest`` is not its.
    monkeypatch.setattr(pipeline, "ingest", not_here)
    ingested = pipeline.ingest_ahead_of_build(settings, "ahead")

    assert (ingested["files_new"], ingested["rows_loaded"], ingested["rows_rejected"]) == (2, 1, 1)
    assert query(settings, "select count(*) from raw.landing_files") == [(2,)]
    parse = [thread for thread in threading.enumerate() if thread.name == "dbt-parse"]
    assert len(parse) <= 1
    for thread in parse:
        thread.join(timeout=300)
        assert not thread.is_alive()
    # Kept in this process for the build, and saved for a build in another one.
    assert transform._dbt._key == transform._project_key(settings)
    assert transform._dbt._manifest is not None
    assert transform.saved_parse(settings).stat().st_size > 0
