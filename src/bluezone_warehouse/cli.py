"""The ``bluezone`` console script: simulate a campaign, run the pipeline, show results."""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bluezone_warehouse.config import airflow_environment, load_settings


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _fault(text: str) -> tuple[str, float]:
    from bluezone_warehouse.simulate import FaultRates

    name, _, value = text.partition("=")
    kinds = {f.name for f in dataclasses.fields(FaultRates)}
    if name not in kinds or not value:
        raise argparse.ArgumentTypeError(
            f"expected KIND=RATE with KIND one of {', '.join(sorted(kinds))}; got {text!r}"
        )
    return name, float(value)


def _fault_help() -> str:
    from bluezone_warehouse.simulate import FaultRates

    defaults = FaultRates()
    lines = ["fault kinds, their default rates and meaning (set with --fault KIND=RATE):"]
    for option in dataclasses.fields(FaultRates):
        meaning = option.metadata.get("help", "").replace("%%", "%")
        lines.append(f"  {option.name:30} {getattr(defaults, option.name):<6} {meaning}")
    return "\n".join(lines)


def cmd_simulate(args: argparse.Namespace) -> int:
    from bluezone_warehouse.simulate import FaultRates, simulate_campaign

    faults = FaultRates.none() if args.clean else FaultRates()
    if args.fault:
        faults = dataclasses.replace(faults, **dict(args.fault))
    out = Path(args.out) if args.out else Path(load_settings().landing_url)
    provinces = [p.strip() for p in args.provinces.split(",")] if args.provinces else None
    started = time.perf_counter()
    result = simulate_campaign(
        out,
        start=args.start,
        end=args.end,
        provinces=provinces,
        seed=args.seed,
        faults=faults,
        progress=sys.stderr.isatty() and not args.quiet,
        overwrite=args.overwrite,
        commune_level=args.commune_level,
    )
    print(
        f"simulated {len(result.days)} days into {result.landing_dir}: "
        f"{result.files_written} files, {result.faults} injected faults "
        f"({time.perf_counter() - started:.1f}s); ground truth in {result.truth_dir}"
    )
    return 0


def cmd_airflow_init(_: argparse.Namespace) -> int:
    env = airflow_environment()
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [airflow, "pools", "set", "warehouse_writer", "1", "Single writer of the DuckDB warehouse"],
        env=env,
        check=True,
        capture_output=True,
    )
    print(f"Airflow home ready: {env['AIRFLOW_HOME']} (pool warehouse_writer, 1 slot)")
    return 0


def airflow_dags_test(
    dag_id: str,
    logical_date: str,
    *,
    quiet: bool = False,
    conf: dict | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one DAG run for real with ``airflow dags test`` (tasks in this process tree).

    ``env`` (default: this process's environment) gets the embedded Airflow's defaults.
    """
    airflow = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run(
        [
            airflow,
            "dags",
            "test",
            dag_id,
            logical_date,
            *(["--conf", json.dumps(conf)] if conf else []),
        ],
        env=airflow_environment(env),
        text=True,
        check=False,
        capture_output=quiet,
    )


def cmd_airflow_run(args: argparse.Namespace) -> int:
    from bluezone_warehouse.pipeline import logical_date_for

    logical = logical_date_for(args.date).isoformat()
    print(f"airflow dags test bluezone_daily {logical}  (business day {args.date})")
    completed = airflow_dags_test("bluezone_daily", logical, quiet=args.quiet)
    if completed.returncode != 0:
        if args.quiet:
            print(completed.stdout[-5000:], completed.stderr[-5000:], sep="\n", file=sys.stderr)
        print(
            f"bluezone_daily for {args.date} failed (exit {completed.returncode})", file=sys.stderr
        )
    return completed.returncode


def cmd_run(args: argparse.Namespace) -> int:
    from bluezone_warehouse.pipeline import run_daily

    result = run_daily(load_settings(), args.date)
    print(f"ingested {result.ingested}; built {result.built}; published {result.snapshot}")
    return 0


def cmd_dbt_docs(args: argparse.Namespace) -> int:
    from bluezone_warehouse.transform import generate_docs

    settings = load_settings()
    out = Path(args.out) if args.out else settings.work_dir / "dbt_docs"
    page = generate_docs(settings, args.date, out)
    print(f"dbt docs for the warehouse {settings.warehouse_path}: {page}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from bluezone_warehouse.summary import print_summary

    print_summary(load_settings(), args.date)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bluezone_warehouse.demo import run_demo

    return run_demo(load_settings(), end=args.end, seed=args.seed)


def cmd_distributed(args: argparse.Namespace) -> int:
    from bluezone_warehouse.distributed import run_distributed

    provinces = args.provinces.split(",") if args.provinces else None
    return run_distributed(args.date, provinces=provinces, seed=args.seed, root=args.root)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bluezone",
        description="Bluezone coverage warehouse: simulate a campaign, run and inspect the "
        "pipeline. Settings come from BLUEZONE_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    simulate = commands.add_parser(
        "simulate",
        help="write a simulated campaign's landing files (install exports and unit reports)",
        description="Simulate an app-adoption campaign and write its landing files exactly as "
        "DESIGN §3.2-3.3 describes, with faults injected at configurable rates and a "
        "ground-truth manifest of every injected fault under OUT/_simulation/.",
        epilog=_fault_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate.add_argument(
        "--start",
        type=_date,
        default=date(2020, 8, 1),
        help="first day of the campaign (default 2020-08-01)",
    )
    simulate.add_argument(
        "--end",
        type=_date,
        default=date(2020, 8, 25),
        help="last day of the campaign, inclusive (default 2020-08-25)",
    )
    simulate.add_argument(
        "--provinces",
        default=None,
        help="comma-separated 2-digit GSO province codes (default: all 63)",
    )
    simulate.add_argument(
        "--seed",
        type=int,
        default=2020,
        help="random seed; the same seed gives the same files (default 2020)",
    )
    simulate.add_argument(
        "--out", default=None, help="landing folder to write (default: $BLUEZONE_LANDING_URL)"
    )
    simulate.add_argument(
        "--clean",
        action="store_true",
        help="inject no faults at all (every report on time, exports clean)",
    )
    simulate.add_argument(
        "--fault",
        type=_fault,
        action="append",
        metavar="KIND=RATE",
        help="override one fault rate; repeatable (kinds listed below)",
    )
    simulate.add_argument(
        "--overwrite",
        action="store_true",
        help="replace installs/, reports/ and _simulation/ under OUT if they "
        "already hold files (otherwise the simulator refuses)",
    )
    simulate.add_argument(
        "--commune-level",
        action="store_true",
        help="commune-level export variant: each export also has a row per commune "
        "(level commune, 5-digit GSO code; 10,614 nationally)",
    )
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(func=cmd_simulate)

    init = commands.add_parser(
        "airflow-init", help="create the embedded Airflow home (metadata, pool)"
    )
    init.set_defaults(func=cmd_airflow_init)

    airflow_run = commands.add_parser(
        "airflow-run",
        help="run bluezone_daily for one business day as a real Airflow run",
        description="Runs `airflow dags test bluezone_daily` for the business day DATE "
        "(the run that starts at 02:00 local time on the next day).",
    )
    airflow_run.add_argument("--date", type=_date, required=True, help="business day YYYY-MM-DD")
    airflow_run.add_argument("--quiet", action="store_true", help="show output only on failure")
    airflow_run.set_defaults(func=cmd_airflow_run)

    run = commands.add_parser("run", help="run the daily pipeline's steps directly, no Airflow")
    run.add_argument("--date", type=_date, required=True, help="business day YYYY-MM-DD")
    run.set_defaults(func=cmd_run)

    summary = commands.add_parser("summary", help="print the campaign summary from the snapshot")
    summary.add_argument(
        "--date",
        type=_date,
        default=None,
        help="snapshot day (default: the latest in the snapshot)",
    )
    summary.set_defaults(func=cmd_summary)

    docs = commands.add_parser(
        "dbt-docs", help="generate the dbt docs (one offline HTML page) for the warehouse"
    )
    docs.add_argument("--date", type=_date, default=date(2020, 8, 25), help="run date var")
    docs.add_argument("--out", default=None, help="folder for the docs (default: work dir)")
    docs.set_defaults(func=cmd_dbt_docs)

    demo = commands.add_parser(
        "demo", help="simulate the default campaign, run bluezone_daily, print the summary"
    )
    demo.add_argument(
        "--end",
        type=_date,
        default=date(2020, 8, 25),
        help="last simulated day, the day the DAG runs for (default 2020-08-25)",
    )
    demo.add_argument("--seed", type=int, default=2020, help="simulation seed (default 2020)")
    demo.set_defaults(func=cmd_demo)

    distributed = commands.add_parser(
        "distributed",
        help="run one day on the distributed topology (PostgreSQL, Redis, Celery, S3), no Docker",
        description="Installs PostgreSQL and Redis from Debian's packages when missing (root), "
        "starts them, an S3-compatible server for the landing zone and Airflow's API server, "
        "scheduler, DAG processor, triggerer and two Celery workers on localhost; simulates a "
        "campaign up to DATE, triggers that day's deadline runs and daily run together through "
        "the REST API, waits for the scheduler to finish them, prints which worker ran each "
        "task, and stops every process it started.",
    )
    distributed.add_argument(
        "--date", type=_date, default=date(2020, 8, 5), help="business day (default 2020-08-05)"
    )
    distributed.add_argument(
        "--provinces",
        default="30,58,89",
        help="comma-separated province codes to simulate (default 30,58,89; empty for all 63)",
    )
    distributed.add_argument("--seed", type=int, default=2020, help="simulation seed")
    distributed.add_argument(
        "--root", type=Path, default=None, help="folder for everything (default: a new temp one)"
    )
    distributed.set_defaults(func=cmd_distributed)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
