"""The campaign simulator: options."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from bluezone_warehouse.units import unit_set


def _option(default: float, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


COUNTS = ("coverage_over_100", "boundary_probes")


@dataclass(frozen=True)
class FaultRates:
    """How often the simulator injects each kind of fault (and two benign irregularities).

    Each field's ``metadata["help"]`` is its one-line description (for ``--help``). Rates
    are shares of the opportunities named in the help text; every rate above zero places
    at least one fault of its kind when the campaign has room for one, so a short campaign
    still exercises every check. Fault kinds are the check ids of DESIGN §5.
    """

    late_report: float = _option(
        0.06,
        "Share of expected unit-days whose report arrives after the unit's deadline "
        "(1 minute to 6 hours late, some after midnight).",
    )
    missing_report: float = _option(
        0.03, "Share of expected unit-days for which the unit never sends a report."
    )
    conflicting_resubmission: float = _option(
        0.01,
        "Share of on-time unit-days the unit reports twice before its deadline with "
        "different figures (the later submission wins).",
    )
    unknown_unit: float = _option(
        0.003,
        "Share of report rows accompanied by a row from a sender that is not in the "
        "registry (its code and name match no unit).",
    )
    malformed_file: float = _option(
        0.003,
        "Share of report files that are broken (truncated, empty, a required column "
        "missing, or an unparseable number); the sender resends a good file before its "
        "deadline.",
    )
    report_rejected: float = _option(
        0.003,
        "Share of district committees' on-time reports sent as one file whose row names the "
        "unit and the day readably but has an unreadable figure or time (the row is "
        "rejected), and never corrected that day: the unit-day is rejected. One in three "
        "of them (never the first) is corrected after the deadline instead: late, and "
        "rejected at the deadline.",
    )
    out_of_range_date: float = _option(
        0.002,
        "Share of report rows accompanied by a row whose report date is after the day it "
        "was sent or before the campaign.",
    )
    code_name_mismatch: float = _option(
        0.002,
        "Share of report rows accompanied by a row that gives the unit's code with the name "
        "of another unit of its province (a copy-paste slip, quarantined with both units).",
    )
    decreasing_cumulative: float = _option(
        0.001,
        "Share of exported district-days (2025 units: commune-days) whose cumulative installs "
        "fall below the previous day's.",
    )
    district_sum_exceeds_province: float = _option(
        0.005,
        "Share of exported province-days whose district (2025 units: commune) figures add "
        "up to more than the official provincial total (flagged children_exceed_parent).",
    )
    unattributed_share: float = _option(
        0.01,
        "Share of exported province-days whose unattributed installs (province total "
        "minus its districts) exceed 5%% of the total.",
    )
    report_export_mismatch: float = _option(
        0.01,
        "Share of district reports whose installs differ from the export's district "
        "figure by 15-40%%.",
    )
    outlier_increment: float = _option(
        0.002,
        "Share of exported district-days whose daily increment spikes to 8-12x the "
        "previous 7-day mean.",
    )
    coverage_over_100: int = _option(
        2,
        "Number of the smallest simulated districts whose exported installs grow past "
        "their population.",
    )
    staff_installed_exceeds_total: float = _option(
        0.005, "Share of agency reports with more staff installed than staff in total."
    )
    export_incomplete: float = _option(
        0.002,
        "Share of exported province-days whose export leaves out the row of one of the "
        "province's districts.",
    )
    installs_with_phone_exceeds_installs: float = _option(
        0.001,
        "Share of exported district-days whose installs with a phone number are 1-5%% above "
        "the installs.",
    )
    stale_export: float = _option(
        0.04,
        "Share of snapshot days whose install export never arrives (never the first or "
        "the last day).",
    )
    redelivery: float = _option(
        0.08,
        "Share of snapshot days whose export is delivered twice: a first file with some "
        "district figures wrong, then a corrected _v2 file a few hours later.",
    )
    benign_resubmission: float = _option(
        0.02,
        "Share of on-time unit-days the unit reports twice before its deadline with the "
        "same figures (not a fault).",
    )
    blank_unit_code: float = _option(
        0.08,
        "Share of report rows that leave the unit code blank and give a variant of the "
        "unit's name instead (not a fault).",
    )
    boundary_probes: int = _option(
        1,
        "Sets of boundary probes: for every threshold of DESIGN §5, a value exactly at it "
        "(not flagged) and one just over it (flagged), e.g. an unattributed share of 5%% "
        "and 5.01%%, a report sent at the deadline and a minute after.",
    )

    def __post_init__(self) -> None:
        for option in fields(self):
            value = getattr(self, option.name)
            if option.name in COUNTS:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{option.name} must be a count >= 0, got {value!r}")
            elif not 0.0 <= value <= 1.0:
                raise ValueError(f"{option.name} must be a share in [0, 1], got {value!r}")

    @classmethod
    def none(cls) -> FaultRates:
        """No faults and no irregularities: the clean campaign of exact end-to-end tests."""
        return cls(**{option.name: 0 for option in fields(cls)})

    def as_dict(self) -> dict[str, float | int]:
        return {option.name: getattr(self, option.name) for option in fields(self)}


DEFAULT_FAULTS = FaultRates()


@dataclass(frozen=True)
class CampaignWindow:
    """A unit set's default campaign: the days the simulator writes (``start`` .. ``end``),
    the day the demo runs the DAGs for, and the campaign's window as the warehouse knows it
    (BLUEZONE_CAMPAIGN_START / _END: report dates outside it are out of range)."""

    start: date
    end: date
    demo_end: date
    campaign_end: date


# By unit set (DESIGN §9): the 2020 Bluezone campaign, and a present-day campaign on the units
# in force since 1 July 2025. The campaign's first and last days are the unit set's
# (dbt_project.yml, vars.unit_sets); these are the days simulated by default and the demo's.
SIMULATED = {
    "2020": {"end": date(2020, 8, 25), "demo_end": date(2020, 8, 25)},
    "2025": {"end": date(2026, 12, 31), "demo_end": date(2026, 9, 21)},
}


def campaign_window(units: str | None = None) -> CampaignWindow:
    """The default campaign of the unit set ``units`` (the project's default set when None)."""
    declared = unit_set(units)
    if declared.name not in SIMULATED:
        raise ValueError(f"the simulator has no default campaign for the {declared.name} units")
    return CampaignWindow(
        start=declared.campaign_start,
        campaign_end=declared.campaign_end,
        **SIMULATED[declared.name],
    )


@dataclass
class SimulationResult:
    """Where a simulated campaign was written and what it holds."""

    landing_dir: Path
    truth_dir: Path
    files_written: int
    faults: int
    days: list[date]
