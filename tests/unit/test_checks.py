"""The check catalogue: one home (the dbt vars), read the same way by everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from bluezone_warehouse import checks


def write_project(folder: Path, vars_block: str) -> Path:
    (folder / "dbt_project.yml").write_text(f"name: x\nvars:\n{vars_block}", encoding="utf-8")
    return folder


def test_catalogue_keeps_order_and_severity(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        "  dq_checks:\n"
        "    b_check: {severity: error, what: second}\n"
        "    a_check: {severity: warn, what: first}\n"
        "  dq_limit_max: 0.25\n",
    )
    assert checks.check_ids(project) == ("b_check", "a_check")
    assert checks.catalogue(project)["a_check"] == checks.Check("a_check", "warn", "first")
    assert checks.threshold("limit_max", project) == 0.25


def test_threshold_must_be_a_number(tmp_path: Path) -> None:
    project = write_project(tmp_path, "  dq_checks: {}\n  dq_flag: true\n  dq_word: high\n")
    for name in ("flag", "word"):
        with pytest.raises(TypeError, match=f"dq_{name}"):
            checks.threshold(name, project)


def test_every_severity_is_warn_or_error() -> None:
    assert {check.severity for check in checks.catalogue().values()} <= {"warn", "error"}
    assert len(checks.check_ids()) == len(set(checks.check_ids())) >= 14
