"""Peak memory of ingesting one file as large as the size limit allows (DESIGN §8: ≤ 1 GB).

Writes a unit report (CSV) and an install export (CSV) of about 190 MB each, just under the
200 MiB limit, each alone in a landing zone, and ingests each in a fresh process, reading
its peak resident memory. The report is ordinary rows; the export repeats the same
districts, so nearly every row is rejected as a duplicate: the worst case for rejected rows.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from common import machine_line, measure, write_section

TARGET_MIB = 1024
SIZE = 190_000_000
ARRIVED = datetime(2020, 8, 5, 9, tzinfo=UTC).timestamp()


def write_report(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = "05/08/2020,288,05/08/2020 15:10,70.264,ghi chú của đơn vị về số liệu trong ngày\n"
    rows = SIZE // len(line.encode())
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt,Ghi chú\n")
        for _ in range(rows):
            handle.write(line)
    os.utime(path, (ARRIVED, ARRIVED))
    return rows


def write_export(path: Path, seeds: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with (seeds / "ref_districts.csv").open(encoding="utf-8") as handle:
        districts = [row["district_code"] for row in csv.DictReader(handle)]
    rows = size = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("snapshot_date,level,unit_code,installs,installs_with_phone\n")
        while size < SIZE:
            line = f"2020-08-05,district,{districts[rows % len(districts)]},{1000 + rows % 97},\n"
            handle.write(line)
            size, rows = size + len(line), rows + 1
    os.utime(path, (ARRIVED, ARRIVED))
    return rows


def main() -> None:
    from bluezone_warehouse.config import SEEDS_DIR

    lines = []
    with tempfile.TemporaryDirectory(prefix="bluezone-memory-") as tmp:
        cases = {
            "unit report, CSV": lambda landing: write_report(landing / "reports" / "big.csv"),
            "install export, CSV": lambda landing: write_export(
                landing / "installs" / "installs_20200805.csv", SEEDS_DIR
            ),
        }
        for name, write in cases.items():
            root = Path(tmp) / name.split(",")[0].replace(" ", "_")
            landing = root / "landing"
            rows = write(landing)
            size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())
            run = measure("steps", "ingest_only", root=str(root), landing=str(landing))
            ratio = run.peak_mib / TARGET_MIB
            lines.append(
                f"| {name} | {size / 1e6:.0f} MB, {rows:,} rows | {run.result['statuses']} | "
                f"{run.seconds:.0f} s | {run.peak_mib:.0f} MiB | {ratio:.2f} |"
            )
            print(lines[-1], file=sys.stderr)
    body = "\n".join(
        [
            "## Memory per landed file (`bench/memory.py`)",
            "",
            f"{machine_line()}. One ingestion of a single file just under the 200 MiB limit, "
            "in a fresh process; peak resident memory against the 1 GB target (DESIGN §8). "
            "Reports are parsed as a stream and written in committed chunks of 50,000 rows; "
            "an export's rejected rows go from the checker's DuckDB (which spills past 256 MB) "
            "to the warehouse as one Parquet file, and ingestion's writer holds at most 256 MB.",
            "",
            "| file | size | outcome | time | peak | peak / 1 GB |",
            "|---|---|---|---|---|---|",
            *lines,
        ]
    )
    write_section("memory", body)
    print(body)


if __name__ == "__main__":
    main()
