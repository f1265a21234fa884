"""Composing alerts from the warehouse: who has not reported by the deadline (and still not,
for the escalation), per province, with each unit's contact, whether it sent nothing or sent
something that was rejected (and why), how many days in a row it has been without an
accepted report and the province's on-time rate so far; and data-quality digests.

Who has reported is never decided here: the digests read the compliance mart
(``fct_reporting_compliance.status_at_deadline`` / ``status_at_escalation``, DESIGN §4) that
the same run has just refreshed, so a digest and the mart cannot disagree.

Unit contacts are personal data: they are read from the registry seed here, for the alert
only, and never written to the warehouse's marts or the published snapshot.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb

from bluezone_warehouse.alerts.model import Alert, MissingUnit
from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.names import percent
from bluezone_warehouse.registry import Province, load_registry
from bluezone_warehouse.schedule import digest_times

# Which status each digest reads (fct_reporting_compliance, DESIGN §4): the deadline digest
# what had arrived by the deadline, the escalation what had arrived by the escalation, the
# reminder what had arrived by the refresh just before it.
STATUS_COLUMN = {
    "deadline": "status_at_deadline",
    "escalation": "status_at_escalation",
    "reminder": "status",
}
UNREPORTED = ("missing", "rejected")


def _unreported(
    con: duckdb.DuckDBPyConnection, kind: str, province_code: str, day: date
) -> list[tuple[str, str, str | None, int]]:
    """(unit, status, why it was rejected, days unreported in a row) of the province's units
    whose status for ``day`` in the compliance mart is missing or rejected."""
    return con.execute(
        f"""
        with today as (
            select unit_code, {STATUS_COLUMN[kind]} as status, rejection_reason
            from marts.fct_reporting_compliance
            where province_code = ? and report_date = ?
        ),
        history as (
            select unit_code, report_date, status in ('missing', 'rejected') as unreported
            from marts.fct_reporting_compliance
            where province_code = ? and report_date < ?
        ),
        last_reported as (
            select unit_code, max(report_date) filter (not unreported) as last_day
            from history group by unit_code
        ),
        streaks as (
            select history.unit_code, count(*) as days
            from history left join last_reported using (unit_code)
            where history.report_date > coalesce(last_reported.last_day, date '1900-01-01')
            group by history.unit_code
        )
        select today.unit_code, today.status, today.rejection_reason,
            1 + coalesce(streaks.days, 0)
        from today left join streaks using (unit_code)
        where today.status in {UNREPORTED}
        order by today.unit_code
        """,
        [province_code, day, province_code, day],
    ).fetchall()


def _on_time_rate(con: duckdb.DuckDBPyConnection, province_code: str, day: date) -> float | None:
    """The province's on-time reports / expected reports over the campaign's days before
    ``day`` (today is still open), from agg_reporting_rates."""
    (rate,) = con.execute(
        "select sum(on_time_reports) / nullif(sum(expected_reports), 0) "
        "from marts.agg_reporting_rates where scope_code = ? and report_date < ?",
        [province_code, day],
    ).fetchone()
    return None if rate is None else float(rate)


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
        "columns": ("Mã", "Đơn vị", "Tình trạng", "Liên hệ", "Số ngày liên tiếp chưa báo cáo"),
        "missing": "chưa gửi",
        "rejected": "đã gửi nhưng bị từ chối: {reason}",
        "no_reason": "xem biên nhận đã gửi cho đơn vị",
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
        "columns": ("Code", "Unit", "Status", "Contact", "Days missing in a row"),
        "missing": "sent nothing",
        "rejected": "sent, but rejected: {reason}",
        "no_reason": "see the receipt sent to the unit",
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

    def cells(unit: MissingUnit) -> tuple[object, ...]:
        state = (
            words["rejected"].format(reason=unit.rejection_reason or words["no_reason"])
            if unit.status == "rejected"
            else words["missing"]
        )
        contact = f"{unit.contact_email}, {unit.contact_phone}"
        return (unit.unit_code, unit.unit_name, state, contact, unit.days_missing_in_a_row)

    lines = [intro, "", "| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    for unit in missing:
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells(unit)) + " |")
    lines += ["", rate]
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells(u)) + "</tr>"
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
    consolidations: Path | None = None,
    units: str | None = None,
) -> list[Alert]:
    """The digests due at local time ``at``: for each province whose deadline, escalation
    time or reminder time it is, the units with no report for the day as of ``at``, from
    the registry of the unit set ``units``."""
    registry = load_registry(units=units)
    provinces = registry.provinces
    local = at.astimezone(LOCAL_TZ)
    day, clock = local.date(), local.strftime("%H:%M")
    due: list[tuple[str, Province]] = [
        (kind, province)
        for province in provinces.values()
        for kind, when in digest_times(
            province.deadline_local, escalation_after_minutes, reminder_before_minutes
        ).items()
        if when == clock
    ]
    if not due:
        return []
    alerts = []
    for kind, province in due:
        missing = []
        for code, status, reason, streak in _unreported(con, kind, province.province_code, day):
            unit = registry.by_code[code]
            missing.append(
                MissingUnit(
                    unit.unit_code,
                    unit.unit_name,
                    unit.contact_email,
                    unit.contact_phone,
                    unit.escalation_email,
                    unit.deadline_local,
                    streak,
                    status,
                    reason,
                )
            )
        if not missing:
            continue
        rate = _on_time_rate(con, province.province_code, day)
        attachments = []
        if consolidations is not None:
            from bluezone_warehouse.consolidation import current_files

            attachments = [
                p for p in current_files(consolidations, day, province.province_code) if p.exists()
            ]
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
                    # the province's consolidation (DESIGN §3.5): attached to the e-mail,
                    # linked elsewhere
                    "consolidation": [str(path) for path in attachments],
                },
                attachments=attachments,
            )
        )
    return alerts


def data_quality_alerts(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    day: date,
    language: str = "vi",
    units: str | None = None,
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
    provinces = load_registry(units=units).provinces
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


# ---------------------------------------------------------------------------- receipts

RECEIPT_TEXTS = {
    "vi": {
        "subject_rejected": "[Bluezone] {unit}: báo cáo trong tệp {file} chưa được chấp nhận",
        "subject_partial": "[Bluezone] {unit}: một số dòng trong tệp {file} chưa được chấp nhận",
        "intro": "Hệ thống đã nhận tệp {file} của {unit} lúc {received}.",
        "rejected": "Báo cáo trong tệp chưa được tính cho đến khi đơn vị gửi lại bản đã sửa:",
        "partial": "Các dòng khác đã được ghi nhận; các dòng sau chưa được tính cho đến khi "
        "đơn vị gửi lại bản đã sửa:",
        "closing": "Đây là thư tự động của kho dữ liệu Bluezone; vui lòng không trả lời thư này.",
    },
    "en": {
        "subject_rejected": "[Bluezone] {unit}: the report in {file} was not accepted",
        "subject_partial": "[Bluezone] {unit}: some rows of {file} were not accepted",
        "intro": "The warehouse received {file} from {unit} at {received}.",
        "rejected": "The report does not count until a corrected file is sent:",
        "partial": "The other rows were recorded; these do not count until a corrected file "
        "is sent:",
        "closing": "This is an automatic message from the Bluezone warehouse; please do not "
        "reply to it.",
    },
}


def receipt_alerts(
    con: duckdb.DuckDBPyConnection, *, day: date, language: str = "vi", units: str | None = None
) -> list[Alert]:
    """One receipt per report delivery received on ``day`` (local) that had rows of a
    registry unit rejected (DESIGN §6), to the unit's contact: each problem as the sender
    reads it (file, sheet, row, column as written, value, what to write instead), and
    whether the report counts. Keyed by the delivery, so never sent twice for it."""
    rows = con.execute(
        """
        with received as (
            select file_id, path as source_file, arrived_at
            from raw.landing_files
            where source = 'reports'
                and cast(timezone(?, arrived_at) as date) = ?
        ),
        problems as (
            select rejected.file_id, rejected.unit_code,
                list(coalesce(rejected.message, rejected.reason)
                    order by rejected.row_number nulls first, rejected.reason) as messages
            from raw.rejected_rows as rejected
            where rejected.unit_code is not null
                and rejected.file_id in (select file_id from received)
            group by all
        ),
        accepted as (
            select distinct file_id, unit_code from marts.fct_deliveries
            where outcome <> 'rejected'
        )
        select problems.file_id, problems.unit_code, received.source_file,
            timezone(?, received.arrived_at), problems.messages,
            accepted.file_id is not null as partly_accepted
        from problems
        inner join received using (file_id)
        left join accepted using (file_id, unit_code)
        order by received.arrived_at, problems.file_id, problems.unit_code
        """,
        [LOCAL_TZ.key, day, LOCAL_TZ.key],
    ).fetchall()
    registered = load_registry(units=units).by_code
    words = RECEIPT_TEXTS.get(language, RECEIPT_TEXTS["vi"])
    alerts = []
    for file_id, code, source_file, received, problems, partly_accepted in rows:
        unit = registered.get(code)
        if unit is None:
            continue
        file_name = f'"{source_file.rsplit("/", 1)[-1]}"'
        values = {
            "unit": unit.unit_name,
            "file": file_name,
            "received": f"{received:%H:%M %d/%m/%Y}",
        }
        state = "partial" if partly_accepted else "rejected"
        subject = words[f"subject_{state}"].format(**values)
        lines = [words["intro"].format(**values), "", words[state], ""]
        lines += [f"- {problem}" for problem in problems]
        lines += ["", words["closing"]]
        text = "\n".join(lines) + "\n"
        body = (
            f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(subject)}</title></head><body>"
            f"<p>{html.escape(lines[0])}</p><p>{html.escape(words[state])}</p><ul>"
            + "".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
            + f"</ul><p>{html.escape(words['closing'])}</p></body></html>"
        )
        alerts.append(
            Alert(
                code,
                day,
                f"receipt:{file_id}",
                subject,
                text,
                body,
                [unit.contact_email],
                payload={
                    "unit_code": code,
                    "day": day.isoformat(),
                    "kind": "receipt",
                    "file": source_file,
                    "received_at_local": received.isoformat(),
                    "counts": bool(partly_accepted),
                    "problems": list(problems),
                },
            )
        )
    return alerts
