"""Listing a local landing zone: the same files, sizes and arrival times as fsspec's own
walk of the folder (what the listing was before it walked the folder itself)."""

from __future__ import annotations

import os
from pathlib import Path

import fsspec

from bluezone_warehouse.landing import LandingZone, _mtime


def fsspec_listing(root: Path, source: str) -> list[tuple[str, int, object]]:
    fs = fsspec.filesystem("file")
    found = fs.find(str(root / source), detail=True)
    return sorted(
        (
            (full[len(str(root)) + 1 :], int(info["size"]), _mtime(info))
            for full, info in found.items()
            if info["type"] == "file"
        ),
        key=lambda row: (row[2], row[0]),
    )


def test_the_local_listing_is_fsspecs(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    reports = root / "reports"
    (reports / "2020" / "08" / "25").mkdir(parents=True)
    (reports / "empty").mkdir()
    (root / "installs").mkdir()
    files = {
        "reports/a.csv": b"unit_code,report_date\n",
        "reports/.hidden.csv": b"x\n",
        "reports/2020/08/25/deep.json": b"[]",
        "reports/2020/b.xlsx": b"PK" + bytes(300),
        "installs/installs_20200825.csv": b"snapshot_date\n",
    }
    for n, (relative, content) in enumerate(sorted(files.items())):
        path = root / relative
        path.write_bytes(content)
        os.utime(path, ns=(1_598_300_000_123_456_789 + n, 1_598_300_000_123_456_789 + n * 7))
    # a name that is not UTF-8 (a legacy Windows encoding), listed under its readable form
    legacy = os.fsencode(str(reports)) + b"/b\xe1o_c\xe1o.csv"
    with open(legacy, "wb") as handle:
        handle.write(b"unit_code\n")
    # links are neither followed nor listed, as fsspec lists a folder
    (reports / "link.csv").symlink_to(reports / "a.csv")
    (reports / "linked_folder").symlink_to(reports / "2020")

    zone = LandingZone(str(root))
    for source in ("reports", "installs"):
        listed = zone.list(source)
        expected = fsspec_listing(root, source)
        assert [(f.read_path, f.size_bytes, f.arrived_at) for f in listed] == expected
    listed = {f.read_path: f for f in zone.list("reports")}
    assert len(listed) == 5
    assert "reports/link.csv" not in listed
    legacy_file = next(f for f in listed.values() if f.storage_path is not None)
    assert legacy_file.path == "reports/báo_cáo.csv"
    assert listed["reports/2020/b.xlsx"].size_bytes == 302
