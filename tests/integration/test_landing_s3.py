"""The landing zone on S3: the same ingestion against a real local S3-compatible server
(moto in server mode on 127.0.0.1), including quarantine to a bucket and idempotent reruns."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import s3fs
from moto.server import ThreadedMotoServer

from bluezone_warehouse.config import load_settings
from bluezone_warehouse.ingest import ingest_landing
from bluezone_warehouse.landing import LandingZone
from tests.conftest import environment_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        yield endpoint
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


EXPORT = (
    b"snapshot_date,level,unit_code,installs,installs_with_phone\n"
    b"2020-08-04,province,89,4321,\n2020-08-04,district,883,1200,900\n"
)
REPORT = (
    "Ngày báo cáo,Mã đơn vị,Số lượng cài đặt,Thời gian gửi\n04/08/2020,883,1.210,04/08/2020 14:00\n"
).encode()


def test_ingest_from_s3_with_quarantine_and_rerun(s3_endpoint: str, tmp_path: Path) -> None:
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint})
    fs.mkdir("landing")
    fs.mkdir("quarantine")
    fs.pipe_file("landing/installs/installs_20200804.csv", EXPORT)
    fs.pipe_file("landing/reports/an-giang/bao-cao.csv", REPORT)
    fs.pipe_file("landing/reports/broken.json", b'{"rows": [')
    fs.pipe_file("landing/_simulation/ignored.csv", b"not a landing file")
    env = {
        **environment_for(tmp_path),
        "BLUEZONE_LANDING_URL": "s3://landing",
        "BLUEZONE_QUARANTINE_URL": "s3://quarantine",
    }
    settings = load_settings(env)
    assert [f.path for f in LandingZone(settings.landing_url).list("reports")] == [
        "reports/an-giang/bao-cao.csv",
        "reports/broken.json",
    ]
    summary = ingest_landing(settings, run_id="s3-1")
    assert summary.statuses == {"loaded": 2, "quarantined": 1}
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert con.execute(
        "select level, unit_code, installs from raw.install_exports order by level"
    ).fetchall() == [("district", "883", 1200), ("province", "89", 4321)]
    assert con.execute(
        "select unit_code, installs_reported, source_file from raw.unit_reports"
    ).fetchall() == [("883", 1210, "reports/an-giang/bao-cao.csv")]
    quarantined_to = con.execute(
        "select quarantined_to from raw.landing_files where status = 'quarantined'"
    ).fetchone()[0]
    con.close()
    assert quarantined_to.startswith("s3://quarantine/reports/")
    assert fs.cat_file(quarantined_to) == b'{"rows": ['
    again = ingest_landing(settings, run_id="s3-2")
    assert again.statuses == {}
