"""The test bench's subcommands of the ``bluezone`` console script.

``register`` is the ``bluezone.commands`` entry point (pyproject.toml): the warehouse's CLI
calls it with its subparsers, so ``bluezone simulate``, ``bluezone demo`` and ``bluezone
distributed`` sit beside the warehouse's own commands without the warehouse importing this
package.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from datetime import date
from pathlib import Path

from bluezone_warehouse.cli import parse_date
from bluezone_warehouse.config import load_settings


def _fault(text: str) -> tuple[str, float | int]:
    from bluezone_devtools.simulate.options import COUNTS, FaultRates

    name, _, value = text.partition("=")
    kinds = {f.name for f in dataclasses.fields(FaultRates)}
    if name not in kinds or not value:
        raise argparse.ArgumentTypeError(
            f"expected KIND=RATE with KIND one of {', '.join(sorted(kinds))}; got {text!r}"
        )
    try:
        return name, int(value) if name in COUNTS else float(value)
    except ValueError:
        kind = "a whole number" if name in COUNTS else "a number"
        raise argparse.ArgumentTypeError(f"{name} needs {kind}; got {value!r}") from None


def _fault_help() -> str:
    from bluezone_devtools.simulate import FaultRates

    defaults = FaultRates()
    lines = ["fault kinds, their default rates and meaning (set with --fault KIND=RATE):"]
    for option in dataclasses.fields(FaultRates):
        meaning = option.metadata.get("help", "").replace("%%", "%")
        lines.append(f"  {option.name:30} {getattr(defaults, option.name):<6} {meaning}")
    return "\n".join(lines)


def cmd_simulate(args: argparse.Namespace) -> int:
    from bluezone_devtools.simulate import FaultRates, simulate_campaign

    faults = FaultRates.none() if args.clean else FaultRates()
    if args.fault:
        faults = dataclasses.replace(faults, **dict(args.fault))
    settings = load_settings()
    out = Path(args.out) if args.out else Path(settings.landing_url)
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
        units=args.units or settings.units,
    )
    print(
        f"simulated {len(result.days)} days into {result.landing_dir}: "
        f"{result.files_written} files, {result.faults} flags in the ground truth "
        f"({time.perf_counter() - started:.1f}s); ground truth in {result.truth_dir}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bluezone_devtools.demo import run_demo

    settings = load_settings()
    return run_demo(settings, end=args.end, seed=args.seed, units=args.units or settings.units)


def cmd_distributed(args: argparse.Namespace) -> int:
    from bluezone_devtools.distributed import run_distributed

    provinces = args.provinces.split(",") if args.provinces else None
    return run_distributed(args.date, provinces=provinces, seed=args.seed, root=args.root)


def _unit_set_names() -> list[str]:
    from bluezone_warehouse.units import unit_sets

    return list(unit_sets())


def register(commands: argparse._SubParsersAction) -> None:
    """Add the bench's subcommands to the ``bluezone`` parser."""
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
        "--units",
        choices=_unit_set_names(),
        default=None,
        help="the administrative unit set the campaign reports on (DESIGN §9): 2020 (63 "
        "provinces, districts) or 2025 (34 provinces, communes); default $BLUEZONE_UNITS, "
        "else the project's default",
    )
    simulate.add_argument(
        "--start",
        type=parse_date,
        default=None,
        help="first day of the campaign (default: the unit set's campaign: 2020-08-01 on the "
        "2020 units, 2026-09-01 on the 2025 units)",
    )
    simulate.add_argument(
        "--end",
        type=parse_date,
        default=None,
        help="last day of the campaign, inclusive (default: 2020-08-25 on the 2020 units, "
        "2026-12-31 on the 2025 units)",
    )
    simulate.add_argument(
        "--provinces",
        default=None,
        help="comma-separated 2-digit GSO province codes of the unit set (2025 codes with "
        "--units 2025; default: all its provinces)",
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
        help="commune-level export variant of the 2020 units: each export also has a row per "
        "commune (level commune, 5-digit GSO code; 10,614 nationally)",
    )
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(func=cmd_simulate)

    demo = commands.add_parser(
        "demo", help="simulate the default campaign, run bluezone_daily, print the summary"
    )
    demo.add_argument(
        "--units",
        choices=_unit_set_names(),
        default=None,
        help="the unit set of the demo's campaign: 2020 (the Bluezone campaign of August "
        "2020) or 2025 (a campaign from 2026-09-01 on the 34 provinces and their communes); "
        "default $BLUEZONE_UNITS, else the project's default",
    )
    demo.add_argument(
        "--end",
        type=parse_date,
        default=None,
        help="last simulated day, the day the DAG runs for (default 2020-08-25 on the 2020 "
        "units, 2026-09-21 on the 2025 units)",
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
        "--date",
        type=parse_date,
        default=date(2020, 8, 5),
        help="business day (default 2020-08-05)",
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
