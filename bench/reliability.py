"""Reliability: a large corpus of hostile inputs through real daily runs, run twice.

A short simulated campaign (two provinces) is the good data. Beside it the benchmark lands
hundreds of hostile inputs, generated from a fixed seed across the classes DESIGN §3 and
§5 name: arbitrary bytes under every extension, truncated and corrupted copies of good
reports and exports, a CSV field longer than Python's default limit, names in a legacy
Windows encoding and names as long as the filesystem allows, HTML and legacy Excel files
under spreadsheet names, password-protected workbooks, Excel lock files, empty files, and
a stale-export week and a partial export among the exports. Then it runs the daily pipeline
(ingest, dbt build, Great Expectations, publish) for the campaign's last day, and again
with nothing new.

It prints, and writes to RESULTS.md: inputs handled with the expected outcome (every file
has one manifest row; good files load all their rows; hostile files are quarantined or load
only what is readable), runs that crashed, whether the snapshot was published, and rows
lost or duplicated (the good files' rows compared with a run on the good files alone, and
every raw table compared before and after the rerun). All of the last three are 0 when the
warehouse keeps its promises.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import traceback
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
from common import machine_line, write_section

SEED = 13
HOSTILE_PER_CLASS = 60
START, END = date(2020, 8, 1), date(2020, 8, 14)
PROVINCES = ["30", "89"]
RAW = ("raw.landing_files", "raw.unit_reports", "raw.install_exports", "raw.rejected_rows")
GOOD_REPORT = (
    "Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt\n"
    "{day:%d/%m/%Y},288,{day:%d/%m/%Y} 15:10,70264\n"
)


def hostile_inputs(good: list[Path], rng: random.Random) -> dict[str, list[tuple[bytes, bytes]]]:
    """Hostile files by class: (path under the landing zone as bytes, content)."""
    reports = [p for p in good if p.parent.name == "reports"]
    exports = [p for p in good if p.parent.name == "installs" and p.suffix == ".csv"]
    day = END

    def name(i: int, prefix: str = "reports/", ext: str = ".csv") -> bytes:
        return f"{prefix}hostile_{i:04d}{ext}".encode()

    classes: dict[str, list[tuple[bytes, bytes]]] = {}
    n = HOSTILE_PER_CLASS
    extensions = [".csv", ".xlsx", ".xls", ".json", ".txt", ".csv.gz", ".parquet", ""]
    classes["arbitrary bytes"] = [
        (
            name(
                i, rng.choice(["reports/", "installs/installs_20200814_"]), rng.choice(extensions)
            ),
            rng.randbytes(rng.randint(0, 4000)),
        )
        for i in range(n)
    ]
    classes["truncated good file"] = []
    for i in range(n):
        source = rng.choice(reports + exports)
        data = source.read_bytes()
        folder = "installs/installs_20200814_t" if source in exports else "reports/t"
        ext = "".join(source.suffixes)
        classes["truncated good file"].append(
            (name(100 + i, folder, ext), data[: rng.randint(0, max(1, len(data) - 1))])
        )
    classes["corrupted good file"] = []
    for i in range(n):
        source = rng.choice(reports)
        data = bytearray(source.read_bytes())
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        classes["corrupted good file"].append(
            (name(200 + i, "reports/c", "".join(source.suffixes)), bytes(data))
        )
    classes["very long field"] = [
        (
            name(300 + i),
            (GOOD_REPORT.format(day=day).rstrip("\n") + ",\n")
            .replace("Số lượng cài đặt\n", "Số lượng cài đặt,Ghi chú\n")
            .replace("70264,", f"70264,{'x' * rng.randint(140_000, 400_000)}")
            .encode(),
        )
        for i in range(n // 5)
    ]
    classes["legacy-encoded or very long name"] = [
        (
            b"reports/"
            + (
                f"báo cáo {i} Đông Anh.csv".encode("cp1258")
                if i % 2
                else b"r" * (250 - len(str(i))) + str(i).encode() + b".csv"
            ),
            GOOD_REPORT.format(day=day).replace(",288,", ",290,").encode(),
        )
        for i in range(n // 5)
    ]
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    classes["not the file it claims to be"] = [
        (name(500 + i, "reports/", ext), content)
        for i, (ext, content) in enumerate(
            [
                (".xlsx", ole2 + "Workbook".encode("utf-16-le")),
                (".xls", ole2 + "Workbook".encode("utf-16-le")),
                (".xlsx", ole2 + "EncryptedPackage".encode("utf-16-le")),
                (".xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>"),
                (".xlsx", b""),
                (".csv", b""),
                (".json", b'{"rows": [{"a": ' * 2000),
                (".pdf", b"%PDF-1.4\n"),
            ]
            * (n // 8)
        )
    ] + [(b"reports/~$template_30.xlsx", b"\x00owner")]
    return classes


def stale_and_partial(landing: Path) -> int:
    """A week without exports, and one partial export (one province's rows removed)."""
    removed = 0
    installs = landing / "installs"
    for offset in range(3, 10):
        for path in installs.glob(f"installs_{START + timedelta(days=offset):%Y%m%d}*"):
            path.unlink()
            removed += 1
    partial = next(
        iter(sorted(installs.glob(f"installs_{END - timedelta(days=1):%Y%m%d}*.csv"))), None
    )
    if partial is not None:
        stat = partial.stat()
        lines = partial.read_text(encoding="utf-8-sig").splitlines(keepends=True)
        kept = [line for line in lines if ",province,89," not in line and ",district,8" not in line]
        partial.write_text("".join(kept), encoding="utf-8")
        os.utime(partial, (stat.st_atime, stat.st_mtime))
    return removed


def counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in RAW}
    finally:
        con.close()


def good_rows(warehouse: Path, good_paths: set[str]) -> set[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        reports = con.execute(
            "select source_file, row_number, unit_code, report_date, installs_reported "
            "from raw.unit_reports"
        ).fetchall()
        exports = con.execute(
            "select source_file, row_number, unit_code, snapshot_date, installs "
            "from raw.install_exports"
        ).fetchall()
    finally:
        con.close()
    return {row for row in reports + exports if row[0] in good_paths}


def run(root: Path, landing: Path) -> tuple[bool, str]:
    from bluezone_warehouse.config import environment_under, load_settings
    from bluezone_warehouse.pipeline import run_daily

    env = {**environment_under(root, landing), "BLUEZONE_SETTLE_SECONDS": "0"}
    try:
        run_daily(load_settings(env), END, run_id=f"reliability-{datetime.now():%H%M%S%f}")
        return True, ""
    except Exception:  # a crash is what this benchmark counts
        return False, traceback.format_exc()[-1500:]


def main() -> None:
    from bluezone_devtools.simulate import FaultRates, simulate_campaign

    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="bluezone-reliability-") as tmp:
        base = Path(tmp)
        landing = base / "landing"
        simulate_campaign(
            landing, start=START, end=END, provinces=PROVINCES, seed=SEED, faults=FaultRates.none()
        )
        shutil.rmtree(landing / "_simulation")
        removed = stale_and_partial(landing)
        good = sorted(p for p in landing.rglob("*") if p.is_file())
        good_paths = {str(p.relative_to(landing)) for p in good}
        reference_landing = base / "reference_landing"
        shutil.copytree(landing, reference_landing, copy_function=shutil.copy2)
        classes = hostile_inputs(good, rng)
        arrived = datetime.combine(END, datetime.min.time()).timestamp() + 9 * 3600
        for files in classes.values():
            for relative, content in files:
                path = os.path.join(os.fsencode(landing), relative)
                with open(path, "wb") as handle:
                    handle.write(content)
                os.utime(path, (arrived, arrived))
        hostile = sum(len(files) for files in classes.values())

        first_ok, first_error = run(base / "corpus", landing)
        warehouse = base / "corpus" / "warehouse" / "bluezone.duckdb"
        before = counts(warehouse)
        second_ok, second_error = run(base / "corpus", landing)
        after = counts(warehouse)
        reference_ok, _ = run(base / "reference", reference_landing)
        reference_rows = good_rows(base / "reference" / "warehouse" / "bluezone.duckdb", good_paths)
        corpus_rows = good_rows(warehouse, good_paths)
        published = (base / "corpus" / "publish" / "current" / "bluezone_marts.duckdb").exists()

        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            manifest = dict(con.execute("select path, status from raw.landing_files").fetchall())
        finally:
            con.close()
        landed = sum(len(files) for _, _, files in os.walk(os.fsencode(landing)))
        good_loaded = sum(manifest.get(p) in ("loaded", "partial") for p in good_paths)
        hostile_handled = sum(
            status in ("quarantined", "refused", "partial", "loaded", "duplicate")
            for path, status in manifest.items()
            if path not in good_paths
        )
        lost = len(reference_rows - corpus_rows)
        duplicated = sum(after[t] - before[t] for t in RAW)
        crashed = (not first_ok) + (not second_ok) + (not reference_ok)
    lines = [
        f"| good files (simulated campaign, {len(PROVINCES)} provinces, {START:%d/%m}–{END:%d/%m}, "
        f"{removed} exports removed for a stale week, one partial export) | {len(good_paths)} | "
        f"{good_loaded} loaded |",
        f"| hostile inputs ({len(classes)} classes) | {hostile} | {hostile_handled} recorded "
        "with an outcome |",
        f"| files in the manifest / files landed | {len(manifest)} / {landed} | |",
        f"| runs crashed (corpus, rerun, reference) | {crashed} | |",
        f"| snapshot published despite the corpus | {'yes' if published else 'no'} | |",
        f"| good rows lost (vs. the good files alone) | {lost} | |",
        f"| rows added by the rerun (duplicates) | {duplicated} | |",
    ]
    body = "\n".join(
        [
            "## Reliability under hostile inputs (`bench/reliability.py`)",
            "",
            f"{machine_line()}. Seed {SEED}; classes: {', '.join(classes)}. The daily pipeline "
            f"(ingest, dbt build, Great Expectations, publish) for {END:%d/%m/%Y}, then again "
            "with nothing new.",
            "",
            "| what | count | outcome |",
            "|---|---|---|",
            *lines,
        ]
    )
    if first_error or second_error:
        body += "\n\nFirst crash:\n\n```\n" + (first_error or second_error) + "\n```"
    write_section("reliability", body)
    print(body)
    sys.exit(0 if not crashed and published and not lost and not duplicated else 1)


if __name__ == "__main__":
    main()
