"""Composing alerts from the warehouse: who has not reported by the deadline (and still not,
for the escalation), per province, with each unit's contact, how many days in a row it has
been missing and the province's on-time rate so far; and data-quality digests.

Unit contacts are personal data: they are read from the registry seed here, for the alert
only, and never written to the warehouse's marts or the published snapshot.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import duckdb

from bluezone_warehouse.alerts.model import Alert, MissingUnit
from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.names import percent
from bluezone_warehouse.registry import Province, Unit, load_registry


def _first_submissions(
    con: duckdb.DuckDBPyConnection, since: date, until: date, known_at: datetime
) -> dict[tuple[str, date], datetime]:
    """First submission per (unit, day) among reports that had arrived by ``known_at``."""
    rows = con.execute(
        "select unit_code, report_date, min(submitted_at) from raw.unit_reports "
        "where report_date between ? and ? and arrived_at <= ? group by all",
        [since, until, known_at],
    ).fetchall()
    return {(unit, day): sent for unit, day, sent in rows}


# ---------------------------------------------------------------------------- texts

TEXTS = {
    "vi": {
        "deadline": "[Bluezone] {province}: {count} đơn vị chưa báo cáo ngày {day} "
        "(hạn {deadline})",
        "escalation": "[Bluezone] {province}: {count} đơn vị vẫn chưa báo cáo ngày {day} "
        "(quá hạn {deadline} {after})",
        "reminder": "[Bluezone] Nhắc báo cáo: {province}, {count} đơn vị chưa gửi báo cáo ngày "
        "{day} (hạn {deadline})",
        "intro_deadline": "Đến {deadline} ngày {day}, các đơn vị sau chưa gửi báo cáo số lượng "
        "cài đặt Bluezone:",
        "intro_escalation": "Đã quá hạn {deadline} ngày {day} {after}, các đơn vị sau vẫn chưa "
        "gửi báo cáo:",
        "intro_reminder": "Hạn gửi báo cáo ngày {day} là {deadline}. Các đơn vị sau chưa gửi:",
        "columns": ("Mã", "Đơn vị", "Liên hệ", "Số ngày liên tiếp chưa báo cáo"),
        "rate": "Tỷ lệ báo cáo đúng hạn của tỉnh từ đầu chiến dịch: {rate}",
        "no_rate": "Chưa có số liệu về tỷ lệ báo cáo đúng hạn.",
        "hours": "{hours} giờ",
        "minutes": "{minutes} phút",
    },
    "en": {
        "deadline": "[Bluezone] {province}: {count} units have not reported for {day} "
        "(deadline {deadline})",
        "escalation": "[Bluezone] {province}: {count} units still have not reported for {day} "
        "({after} past the {deadline} deadline)",
        "reminder": "[Bluezone] Reminder: {province}, {count} units have not reported for {day} "
        "yet (deadline {deadline})",
        "intro_deadline": "By {deadline} on {day}, these units had not sent their Bluezone "
        "install report:",
        "intro_escalation": "{after} past the {deadline} deadline on {day}, these units still "
        "have not reported:",
        "intro_reminder": "Reports for {day} are due at {deadline}. These units have not sent "
        "theirs yet:",
        "columns": ("Code", "Unit", "Contact", "Days missing in a row"),
        "rate": "The province's on-time rate so far this campaign: {rate}",
        "no_rate": "No on-time rate yet.",
        "hours": "{hours} h",
        "minutes": "{minutes} min",
    },
}


def _after(minutes: int, words: dict[str, str]) -> str:
    if minutes % 60 == 0:
        return words["hours"].format(hours=minutes // 60)
    return words["minutes"].format(minutes=minutes)


def render_missing(
    kind: str,
    province: Province,
    day: date,
    deadline: str,
    missing: list[MissingUnit],
    on_time_rate: float | None,
    language: str,
    escalation_after: int,
) -> tuple[str, str, str]:
    """(subject, plain text / Markdown, HTML) of a deadline, escalation or reminder digest."""
    words = TEXTS.get(language, TEXTS["vi"])
    values = {
        "province": province.name,
        "count": len(missing),
        "day": f"{day:%d/%m/%Y}",
        "deadline": deadline,
        "after": _after(escalation_after, words),
    }
    subject = words[kind].format(**values)
    intro = words[f"intro_{kind}"].format(**values)
    rate = (
        words["rate"].format(rate=percent(on_time_rate, language))
        if on_time_rate is not None
        else words["no_rate"]
    )
    columns = words["columns"]
    lines = [intro, "", "| " + " | ".join(columns) + " |", "|---|---|---|---|"]
    for unit in missing:
        contact = f"{unit.contact_email}, {unit.contact_phone}"
        lines.append(
            f"| {unit.unit_code} | {unit.unit_name} | {contact} | {unit.days_missing_in_a_row} |"
        )
    lines += ["", rate]
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (
                u.unit_code,
                u.unit_name,
                f"{u.contact_email}, {u.contact_phone}",
                u.days_missing_in_a_row,
            )
        )
        + "</tr>"
        for u in missing
    )
    body = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head><body>"
        f'<p>{html.escape(intro)}</p><table border="1" cellpadding="4"><thead><tr>'
        + "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        + f"</tr></thead><tbody>{rows}</tbody></table><p>{html.escape(rate)}</p></body></html>"
    )
    return subject, "\n".join(lines) + "\n", body


# ---------------------------------------------------------------------------- digests


def missing_report_alerts(
    con: duckdb.DuckDBPyConnection,
    *,
    at: datetime,
    language: str = "vi",
    escalation_after_minutes: int = 120,
    reminder_before_minutes: int = 0,
) -> list[Alert]:
    """The digests due at local time ``at``: for each province whose deadline, escalation
    time or reminder time it is, the units with no report for the day as of ``at``."""
    registry = load_registry()
    provinces, units = registry.provinces, registry.units
    local = at.astimezone(LOCAL_TZ)
    day, clock = local.date(), local.strftime("%H:%M")
    due: list[tuple[str, Province]] = []
    for province in provinces.values():
        deadline = datetime.combine(
            day, time.fromisoformat(province.deadline_local), tzinfo=LOCAL_TZ
        )
        if clock == province.deadline_local:
            due.append(("deadline", province))
        if clock == (deadline + timedelta(minutes=escalation_after_minutes)).strftime("%H:%M"):
            due.append(("escalation", province))
        if reminder_before_minutes and clock == (
            deadline - timedelta(minutes=reminder_before_minutes)
        ).strftime("%H:%M"):
            due.append(("reminder", province))
    if not due:
        return []
    campaign_start = min(unit.reports_from for unit in units)
    history = _first_submissions(con, campaign_start, day, known_at=at)
    alerts = []
    for kind, province in due:
        members = [u for u in units if u.province_code == province.province_code]
        missing = []
        for unit in (u for u in members if u.active_on(day)):
            sent = history.get((unit.unit_code, day))
            on_time_by = unit.deadline_on(day) if kind == "deadline" else at
            if sent is not None and sent <= on_time_by:
                continue
            streak, previous = 1, day - timedelta(days=1)
            while unit.active_on(previous) and (unit.unit_code, previous) not in history:
                streak, previous = streak + 1, previous - timedelta(days=1)
            missing.append(
                MissingUnit(
                    unit.unit_code,
                    unit.unit_name,
                    unit.contact_email,
                    unit.contact_phone,
                    unit.escalation_email,
                    unit.deadline_local,
                    streak,
                )
            )
        if not missing:
            continue
        rate = _on_time_rate(members, history, campaign_start, day)
        subject, text, body = render_missing(
            kind,
            province,
            day,
            province.deadline_local,
            missing,
            rate,
            language,
            escalation_after_minutes,
        )
        if kind == "escalation":
            to = [province.escalation_email]
            cc = sorted({m.escalation_email for m in missing})
        elif kind == "reminder":
            to, cc = sorted({m.contact_email for m in missing}), [province.digest_email]
        else:
            to, cc = [province.digest_email], []
        alerts.append(
            Alert(
                province.province_code,
                day,
                kind,
                subject,
                text,
                body,
                to,
                cc,
                payload={
                    "province_code": province.province_code,
                    "province_name": province.name,
                    "day": day.isoformat(),
                    "kind": kind,
                    "deadline_local": province.deadline_local,
                    "on_time_rate": rate,
                    "missing": [m.__dict__ for m in missing],
                },
            )
        )
    return alerts


def _on_time_rate(
    members: list[Unit], history: dict[tuple[str, date], datetime], start: date, day: date
) -> float | None:
    """On-time reports / expected reports for the province's units, campaign days before
    ``day`` (today is still open)."""
    expected = on_time = 0
    current = start
    while current < day:
        for unit in members:
            if unit.active_on(current):
                expected += 1
                sent = history.get((unit.unit_code, current))
                on_time += sent is not None and sent <= unit.deadline_on(current)
        current += timedelta(days=1)
    return on_time / expected if expected else None


def data_quality_alerts(
    con: duckdb.DuckDBPyConnection, *, run_id: str, day: date, language: str = "vi"
) -> list[Alert]:
    """One digest per province (and one for nation-wide problems) of the data-quality
    errors first found by this run's build, other than missing and late reports (those have
    their own deadline digests and escalations)."""
    rows = con.execute(
        """
        select issues.province_code, issues.check_id, issues.unit_code, issues.day,
            issues.message
        from marts.fct_data_quality_issues as issues
        inner join ops.dq_first_seen as seen on issues.issue_id = seen.issue_id
        where seen.run_id = ? and issues.severity = 'error'
            -- missing and late reports have their own deadline digests and escalations
            and issues.check_id not in ('missing_report', 'late_report')
        order by all
        """,
        [run_id],
    ).fetchall()
    provinces = load_registry().provinces
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for province_code, *rest in rows:
        grouped[province_code or "VN"].append(tuple(rest))
    alerts = []
    for scope, issues in sorted(grouped.items()):
        province = provinces.get(scope)
        name = province.name if province else ("Toàn quốc" if language == "vi" else "Nation")
        if language == "en":
            subject = f"[Bluezone] {name}: {len(issues)} data-quality errors for {day:%d/%m/%Y}"
            intro = "The daily run found these data-quality errors:"
        else:
            subject = f"[Bluezone] {name}: {len(issues)} lỗi chất lượng dữ liệu ngày {day:%d/%m/%Y}"
            intro = "Lần chạy hằng ngày phát hiện các lỗi chất lượng dữ liệu sau:"
        lines = [intro, ""] + [
            f"- {check} · {unit or ''} · {when:%d/%m/%Y}: {message}"
            if when
            else f"- {check} · {unit or ''}: {message}"
            for check, unit, when, message in issues
        ]
        text = "\n".join(lines) + "\n"
        body = (
            f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(subject)}</title></head><body><p>{html.escape(intro)}</p><ul>"
            + "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines[2:])
            + "</ul></body></html>"
        )
        to = [province.digest_email] if province else ["data-engineering@example.org"]
        alerts.append(
            Alert(
                scope,
                day,
                "dq_errors",
                subject,
                text,
                body,
                to,
                payload={
                    "scope_code": scope,
                    "day": day.isoformat(),
                    "kind": "dq_errors",
                    "errors": [
                        dict(
                            zip(
                                ("check_id", "unit_code", "day", "message"),
                                (c, u, str(w) if w else None, m),
                                strict=True,
                            )
                        )
                        for c, u, w, m in issues
                    ],
                },
            )
        )
    return alerts
