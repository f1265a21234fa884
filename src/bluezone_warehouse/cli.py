"""The ``bluezone`` console script: run the pipeline, inspect its results.

Other installed packages add subcommands through the ``bluezone.commands`` entry-point group
(a callable that receives the subparsers); the test bench adds ``simulate``, ``demo`` and
``distributed`` that way, so this package never imports it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path

from bluezone_warehouse.config import airflow_environment, load_settings
from bluezone_warehouse.schedule import WRITER_POOL, WRITER_POOL_SLOTS


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def cmd_airflow_init(_: argparse.Namespace) -> int:
    from bluezone_warehouse.stack import init_airflow_home

    env = airflow_environment()
    init_airflow_home(env)
    print(
        f"Airflow home ready: {env['AIRFLOW_HOME']} (pool {WRITER_POOL}, {WRITER_POOL_SLOTS} slot)"
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from bluezone_warehouse.stack import StackError, up

    try:
        return up(airflow_environment(), args.port)
    except StackError as exc:
        print(f"bluezone up: {exc}", file=sys.stderr)
        return 1


def cmd_down(_: argparse.Namespace) -> int:
    from bluezone_warehouse.stack import down

    return down(airflow_environment())


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
    from bluezone_warehouse.schedule import logical_date_for

    logical = logical_date_for(args.date).isoformat()
    print(f"airflow dags test bluezone_daily {logical}  (business day {args.date})")
    completed = airflow_dags_test(
        "bluezone_daily",
        logical,
        quiet=args.quiet,
        conf={"rebuild": True} if getattr(args, "rebuild", False) else None,
    )
    if completed.returncode != 0:
        if args.quiet:
            print(completed.stdout[-5000:], completed.stderr[-5000:], sep="\n", file=sys.stderr)
        print(
            f"bluezone_daily for {args.date} failed (exit {completed.returncode})", file=sys.stderr
        )
    return completed.returncode


def cmd_run(args: argparse.Namespace) -> int:
    from bluezone_warehouse.pipeline import run_daily

    result = run_daily(load_settings(), args.date, rebuild=args.rebuild)
    if result.unchanged_since is not None:
        print(
            f"ingested {result.ingested}; nothing new since run {result.unchanged_since}: "
            f"nothing rebuilt; {result.snapshot} and {result.report} stand"
        )
    else:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bluezone",
        description="Bluezone coverage warehouse: run and inspect the "
        "pipeline. Settings come from BLUEZONE_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "airflow-init", help="create the embedded Airflow home (metadata, pool)"
    )
    init.set_defaults(func=cmd_airflow_init)

    up = commands.add_parser(
        "up",
        help="start the embedded Airflow (scheduler, API server and UI, DAG processor, "
        "triggerer) in the background on localhost",
        description="Starts Airflow's components in the background for the Airflow home "
        "AIRFLOW_HOME (default .airflow in the project), after creating it as airflow-init "
        "does, waits until the API server reports them healthy and both DAGs are parsed, and "
        "prints the UI's address and the login (user admin; the password is generated on the "
        "first start, or set by BLUEZONE_UI_PASSWORD). PIDs and logs: $AIRFLOW_HOME/stack/. "
        "Does nothing but print the address when everything already runs.",
    )
    up.add_argument(
        "--port",
        type=int,
        default=None,
        help="the UI's port on 127.0.0.1 (default: BLUEZONE_UI_PORT, else 8080)",
    )
    up.set_defaults(func=cmd_up)

    down = commands.add_parser(
        "down",
        help="stop what `bluezone up` started (by PID, process groups included)",
        description="Stops the processes `bluezone up` started for AIRFLOW_HOME, by the PIDs "
        "in $AIRFLOW_HOME/stack/ (each one's process group and descendants), and removes the "
        "PID files. Does nothing when nothing runs.",
    )
    down.set_defaults(func=cmd_down)

    airflow_run = commands.add_parser(
        "airflow-run",
        help="run bluezone_daily for one business day as a real Airflow run",
        description="Runs `airflow dags test bluezone_daily` for the business day DATE "
        "(the run that starts at 02:00 local time on the next day).",
    )
    airflow_run.add_argument(
        "--date", type=parse_date, required=True, help="business day YYYY-MM-DD"
    )
    airflow_run.add_argument("--quiet", action="store_true", help="show output only on failure")
    airflow_run.add_argument(
        "--rebuild",
        action="store_true",
        help="run every task even when nothing is new since the last run for the day",
    )
    airflow_run.set_defaults(func=cmd_airflow_run)

    run = commands.add_parser("run", help="run the daily pipeline's steps directly, no Airflow")
    run.add_argument("--date", type=parse_date, required=True, help="business day YYYY-MM-DD")
    run.add_argument(
        "--rebuild",
        action="store_true",
        help="run every step even when nothing is new since the last run for the day",
    )
    run.set_defaults(func=cmd_run)

    summary = commands.add_parser("summary", help="print the campaign summary from the snapshot")
    summary.add_argument(
        "--date",
        type=parse_date,
        default=None,
        help="snapshot day (default: the latest in the snapshot)",
    )
    summary.set_defaults(func=cmd_summary)

    docs = commands.add_parser(
        "dbt-docs", help="generate the dbt docs (one offline HTML page) for the warehouse"
    )
    docs.add_argument("--date", type=parse_date, default=date(2020, 8, 25), help="run date var")
    docs.add_argument("--out", default=None, help="folder for the docs (default: work dir)")
    docs.set_defaults(func=cmd_dbt_docs)

    for entry_point in entry_points(group="bluezone.commands"):
        entry_point.load()(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
