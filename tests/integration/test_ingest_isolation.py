"""One file never stops the others (DESIGN §5): whatever a landed file contains or is named,
the run completes, the file is recorded on its own, the good files beside it load, and a
rerun adds nothing."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bluezone_warehouse.config import load_settings
from bluezone_warehouse.ingest import ingest_landing
from tests.conftest import environment_for

ARRIVED = datetime(2020, 8, 5, 8, 30, tzinfo=UTC)
GOOD_REPORT = (
    "Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt\n05/08/2020,001,05/08/2020 15:10,70264\n"
).encode()
GOOD_EXPORT = (
    b"snapshot_date,level,unit_code,installs,installs_with_phone\n"
    b"2020-08-05,province,01,120000,90000\n"
)
STATUSES = {"loaded", "partial", "duplicate", "quarantined", "refused"}
COUNTED = ("raw.landing_files", "raw.unit_reports", "raw.install_exports", "raw.rejected_rows")


def land(root: Path, relative: bytes, content: bytes) -> None:
    path = os.path.join(os.fsencode(root / "landing"), relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    os.utime(path, (ARRIVED.timestamp(), ARRIVED.timestamp()))


def counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in COUNTED}
    finally:
        con.close()


def run_with(root: Path, hostile: list[tuple[bytes, bytes]]) -> None:
    """Land the good files and ``hostile`` (relative name, bytes); ingest twice; check."""
    land(root, b"reports/good_report.csv", GOOD_REPORT)
    land(root, b"installs/installs_20200805.csv", GOOD_EXPORT)
    for relative, content in hostile:
        land(root, relative, content)
    settings_ = load_settings(environment_for(root))
    first = ingest_landing(settings_, run_id="first")
    landed = sum(len(files) for _, _, files in os.walk(os.fsencode(root / "landing")))
    assert first.files_listed == landed
    con = duckdb.connect(str(settings_.warehouse_path), read_only=True)
    try:
        manifest = con.execute("select path, status, reason from raw.landing_files").fetchall()
        good = con.execute(
            "select unit_code, installs_reported from raw.unit_reports "
            "where source_file = 'reports/good_report.csv'"
        ).fetchall()
        exported = con.execute(
            "select unit_code, installs from raw.install_exports "
            "where source_file = 'installs/installs_20200805.csv'"
        ).fetchall()
    finally:
        con.close()
    assert len(manifest) == landed
    assert {status for _, status, _ in manifest} <= STATUSES
    assert all(reason for _, status, reason in manifest if status in ("quarantined", "refused"))
    assert good == [("001", 70264)]
    assert exported == [("01", 120000)]
    before = counts(settings_.warehouse_path)
    second = ingest_landing(settings_, run_id="second")
    assert sum(second.statuses.values()) == 0
    assert counts(settings_.warehouse_path) == before


def test_a_field_longer_than_the_csv_module_allows_loads(tmp_path: Path) -> None:
    note = "x" * 300_000
    content = f"Ngày báo cáo,Mã đơn vị,Số lượng cài đặt,Ghi chú\n05/08/2020,002,5,{note}\n"
    run_with(tmp_path, [(b"reports/long_note.csv", content.encode())])
    con = duckdb.connect(str(tmp_path / "warehouse" / "bluezone.duckdb"), read_only=True)
    try:
        assert con.execute(
            "select unit_code, length(note) from raw.unit_reports where unit_code = '002'"
        ).fetchall() == [("002", 300_000)]
    finally:
        con.close()


def test_a_file_name_in_a_legacy_windows_encoding_loads_under_a_readable_name(
    tmp_path: Path,
) -> None:
    # "báo cáo Đông Anh.csv" in Windows-1258: not UTF-8.
    name = "báo cáo Đông Anh.csv".encode("cp1258")
    with pytest.raises(UnicodeDecodeError):
        name.decode("utf-8")
    run_with(tmp_path, [(b"reports/" + name, GOOD_REPORT.replace(b",001,", b",003,"))])
    con = duckdb.connect(str(tmp_path / "warehouse" / "bluezone.duckdb"), read_only=True)
    try:
        assert con.execute(
            "select source_file, unit_code from raw.unit_reports where unit_code = '003'"
        ).fetchall() == [("reports/báo cáo Đông Anh.csv", "003")]
    finally:
        con.close()


def test_the_longest_name_the_filesystem_allows(tmp_path: Path) -> None:
    run_with(tmp_path, [(b"reports/" + b"a" * 251 + b".csv", b"\x00\x01garbage")])


file_names = st.binary(min_size=1, max_size=120).filter(
    lambda name: b"/" not in name and b"\x00" not in name and name not in (b".", b"..")
)
extensions = st.sampled_from([b".csv", b".xlsx", b".json", b".csv.gz", b".parquet", b".txt", b""])
mutations = st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda cut: GOOD_REPORT[:cut], st.integers(0, len(GOOD_REPORT))),
    st.builds(lambda cut: GOOD_EXPORT[:cut], st.integers(0, len(GOOD_EXPORT))),
    st.builds(
        lambda at, junk: GOOD_REPORT[:at] + junk + GOOD_REPORT[at:],
        st.integers(0, len(GOOD_REPORT)),
        st.binary(min_size=1, max_size=50),
    ),
    st.builds(
        lambda text, enc: text.encode(enc, "replace"),
        st.text(max_size=400),
        st.sampled_from(["utf-8", "utf-16", "cp1258", "latin-1"]),
    ),
)
hostile_files = st.lists(
    st.tuples(
        st.sampled_from([b"reports/", b"installs/", b"installs/installs_20200806"]),
        file_names,
        extensions,
        mutations,
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda item: (item[0], item[1], item[2]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_files)
def test_no_input_stops_the_run_or_the_good_files(
    hostile: list[tuple[bytes, bytes, bytes, bytes]],
) -> None:
    files = [
        (folder + name + extension, content)
        for folder, name, extension, content in hostile
        if folder + name + extension
        not in (b"reports/good_report.csv", b"installs/installs_20200805.csv")
    ]
    with tempfile.TemporaryDirectory(prefix="bluezone-isolation-") as tmp:
        run_with(Path(tmp), files)
