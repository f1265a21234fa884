"""A floor on how well the data-quality checks find injected faults: every DESIGN §5 check
keeps recall and precision >= 0.95 on a simulated campaign with the default fault rates
(bench/dq_quality.py measures the full 63-province campaign)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from bluezone_devtools.measure import CHECKS, score
from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import load_settings
from bluezone_warehouse.ingest import ingest_landing
from bluezone_warehouse.transform import build
from tests.conftest import environment_for

FLOOR = 0.95


def test_every_check_finds_its_faults_and_little_else(tmp_path: Path) -> None:
    end = date(2020, 8, 20)
    result = simulate_campaign(
        tmp_path / "landing",
        start=date(2020, 8, 1),
        end=end,
        provinces=["01", "08", "30", "58", "89", "96"],
        seed=7,
        faults=FaultRates(),
    )
    settings = load_settings(
        {**environment_for(tmp_path), "BLUEZONE_LANDING_URL": str(tmp_path / "landing")}
    )
    ingest_landing(settings, run_id="measured")
    build(settings, end, "measured")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    scores = {s.check_id: s for s in score(con, result.truth_dir / "faults.csv")}
    con.close()
    assert set(scores) == set(CHECKS)
    for check, measured in scores.items():
        assert measured.expected > 0, f"{check}: the campaign injected no fault to find"
        assert measured.recall >= FLOOR, (check, measured)
        assert measured.precision >= FLOOR, (check, measured)
