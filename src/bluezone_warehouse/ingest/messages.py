"""What the sender of a rejected file reads: one catalogue of messages a clerk can act on.

Every rejection of a unit report or an install export carries two texts. ``reason`` is the
engineers' English, read by the data-quality mart and the tests. ``message`` is for the
person who sent the file (DESIGN §6, "Receipts"): it names the file, the sheet, the row as
a spreadsheet program shows it, the column header as the sender wrote it, the value, and
what to write instead, in Vietnamese by default or in English (``settings.alert_language``,
``BLUEZONE_ALERT_LANGUAGE``).

Each problem has one entry in :data:`CATALOGUE`, keyed by a problem id: per language, what
is wrong and the hint, as ``str.format`` templates over the details the code that found the
problem passes (``{value}`` is always the value as written). :func:`render` puts the place
in front (``Tệp "x.xlsx", trang "Sheet1", dòng 7, cột D "Thời gian gửi"``) and joins them:
``<place>: <what is wrong>; <what to write instead>.``
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
_VALUE_CHARS = 80  # a value is shown up to this many characters


@dataclass(frozen=True)
class Words:
    """A text in each language, for a detail that is itself words (a list of sheets...)."""

    vi: str
    en: str

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.vi


@dataclass(frozen=True)
class Problem:
    """(what is wrong, what to write or do instead) in each language."""

    vi: tuple[str, str]
    en: tuple[str, str]


_SAVE_AS = Words(
    vi='hãy mở tệp bằng Excel, chọn File > Save As > "Excel Workbook (.xlsx)" '
    '(hoặc "CSV UTF-8") rồi gửi lại',
    en='open it in Excel, choose File > Save As > "Excel Workbook (.xlsx)" '
    '(or "CSV UTF-8") and send it again',
)
_COUNT_HINT = Words(
    vi="hãy ghi số nguyên không âm, ví dụ 70264 hoặc 70.264",
    en="write a whole non-negative number, e.g. 70264 or 70.264",
)
_DATE_HINT = Words(
    vi="hãy ghi ngày dạng ngày/tháng/năm, ví dụ 04/08/2020 (hoặc 2020-08-04)",
    en="write the date as day/month/year, e.g. 04/08/2020 (or 2020-08-04)",
)
_TIME_HINT = Words(
    vi="hãy ghi giờ dạng 16:00 hoặc 16h00, có thể kèm ngày: 04/08/2020 16:00",
    en="write the time as 16:00 or 16h00, with the date if you like: 04/08/2020 16:00",
)
_RESEND = Words(
    vi="hãy sửa rồi gửi lại cả tệp; báo cáo chỉ được tính khi đã sửa",
    en="correct it and send the whole file again; the report does not count until corrected",
)


def _same(hint: Words, vi: str, en: str) -> Problem:
    return Problem((vi, hint.vi), (en, hint.en))


CATALOGUE: dict[str, Problem] = {
    # --- cells of a unit report -----------------------------------------------------------
    "count_percent": _same(
        Words(
            vi="hãy ghi số người (số nguyên), ví dụ 70264 hoặc 70.264, không ghi tỉ lệ",
            en="write the number of people as a whole number, e.g. 70264 or 70.264, not a share",
        ),
        'giá trị "{value}" là tỉ lệ phần trăm, không phải số lượng',
        'the value "{value}" is a percentage, not a count',
    ),
    "count_decimal": _same(
        Words(
            vi="số lượng là số nguyên: ghi 70264 hoặc 70.264 (dấu chấm ngăn đúng từng nhóm "
            "3 chữ số)",
            en="a count is a whole number: write 70264 or 70.264 (the separator groups "
            "exactly three digits)",
        ),
        'giá trị "{value}" có phần thập phân, hoặc dấu ngăn cách hàng nghìn đặt sai chỗ',
        'the value "{value}" has a decimal part, or a thousands separator in the wrong place',
    ),
    "count_fraction": _same(
        _COUNT_HINT,
        'giá trị "{value}" không phải số nguyên',
        'the value "{value}" is not a whole number',
    ),
    "count_negative": _same(
        _COUNT_HINT,
        'giá trị "{value}" là số âm; số lượng không thể âm',
        'the value "{value}" is negative, and a count never is',
    ),
    "count_formula": _same(
        Words(
            vi="hãy ghi chính con số (dán dạng giá trị: Paste Special > Values), ví dụ 70264",
            en="type the figure itself (Paste Special > Values), e.g. 70264",
        ),
        'ô chứa công thức "{value}", không phải con số',
        'the cell holds the formula "{value}", not a number',
    ),
    "count_spaces": _same(
        _COUNT_HINT,
        'giá trị "{value}" có khoảng trắng không ngăn đúng nhóm 3 chữ số',
        'the value "{value}" has spaces that do not group exactly three digits',
    ),
    "count_boolean": _same(
        _COUNT_HINT,
        'ô chứa giá trị đúng/sai "{value}", không phải con số',
        'the cell holds the true/false value "{value}", not a number',
    ),
    "count_not_number": _same(
        Words(
            vi="hãy ghi số nguyên, ví dụ 70264 hoặc 70.264, không kèm chữ hay đơn vị",
            en="write a whole number, e.g. 70264 or 70.264, without words or units",
        ),
        'giá trị "{value}" không phải con số',
        'the value "{value}" is not a number',
    ),
    "date_impossible": _same(
        _DATE_HINT,
        'ngày "{value}" không có trên lịch',
        'the date "{value}" is not a day of the calendar',
    ),
    "date_format": _same(
        _DATE_HINT,
        'giá trị "{value}" không đọc được là ngày',
        'the value "{value}" cannot be read as a date',
    ),
    "report_date_empty": _same(
        Words(
            vi="hãy ghi ngày mà số liệu báo cáo, ví dụ 04/08/2020",
            en="write the day the figures are for, e.g. 04/08/2020",
        ),
        "ô ngày báo cáo để trống",
        "the report date is empty",
    ),
    "time_format": _same(
        _TIME_HINT,
        'giá trị "{value}" không đọc được là giờ',
        'the value "{value}" cannot be read as a time of day',
    ),
    "time_invalid": _same(
        Words(
            vi="giờ từ 0 đến 23 (hoặc 1 đến 12 khi ghi AM/PM, sáng/chiều), phút từ 0 đến 59, "
            "ví dụ 16:00 hoặc 4:00 PM",
            en="hours run 0 to 23 (1 to 12 with AM/PM), minutes 0 to 59, e.g. 16:00 or 4:00 PM",
        ),
        '"{value}" không phải giờ có thật trong ngày',
        '"{value}" is not a valid time of day',
    ),
    "timestamp_bad_date": _same(
        _TIME_HINT,
        'ngày trong "{value}" không có trên lịch',
        'the date in "{value}" is not a day of the calendar',
    ),
    "timestamp_no_time": _same(
        Words(
            vi="hãy ghi cả giờ gửi, ví dụ 04/08/2020 16:00",
            en="write the time it was sent too, e.g. 04/08/2020 16:00",
        ),
        'giá trị "{value}" có ngày nhưng thiếu giờ',
        'the value "{value}" has a date but no time of day',
    ),
    "no_figure": _same(
        Words(
            vi="hãy ghi số người đã cài đặt (cơ quan, đơn vị: số CBCCVC đã cài đặt)",
            en="write the number of people who installed (agencies: the staff who installed)",
        ),
        "dòng này không có số liệu (ô số lượng cài đặt để trống)",
        "the row has no figure (the number of installs is empty)",
    ),
    "unit_code_unknown": _same(
        Words(
            vi="hãy ghi đúng mã đơn vị được giao, hoặc để trống mã và ghi đúng tên đơn vị",
            en="write the unit code you were given, or leave the code empty and write the "
            "unit's name",
        ),
        'mã đơn vị "{value}" không có trong danh mục đơn vị báo cáo',
        'the unit code "{value}" is not in the list of reporting units',
    ),
    "unit_name_unknown": _same(
        Words(
            vi="hãy ghi tên đơn vị như trong danh mục, hoặc ghi mã đơn vị",
            en="write the unit's name as in the list of reporting units, or its code",
        ),
        'tên đơn vị "{value}" không khớp với đơn vị nào trong danh mục',
        'the unit name "{value}" matches no reporting unit',
    ),
    "unit_name_unknown_closest": _same(
        Words(
            vi="hãy ghi tên đơn vị như trong danh mục, hoặc ghi mã đơn vị",
            en="write the unit's name as in the list of reporting units, or its code",
        ),
        'tên đơn vị "{value}" không khớp với đơn vị nào trong danh mục (gần giống nhất: {closest})',
        'the unit name "{value}" matches no reporting unit (closest: {closest})',
    ),
    "unit_name_ambiguous": _same(
        Words(
            vi="hãy ghi mã đơn vị vào cột Mã đơn vị để chỉ rõ là đơn vị nào",
            en="write the unit code in the unit code column to say which unit it is",
        ),
        'tên đơn vị "{value}" trùng với nhiều đơn vị: {candidates}',
        'the unit name "{value}" is shared by several units: {candidates}',
    ),
    "unit_missing": _same(
        Words(vi="hãy ghi mã đơn vị hoặc tên đơn vị", en="write the unit code or the unit name"),
        "dòng này không có mã đơn vị lẫn tên đơn vị",
        "the row has neither a unit code nor a unit name",
    ),
    "code_name_mismatch": _same(
        Words(
            vi="hãy sửa mã hoặc tên để cả hai cùng chỉ đơn vị của dòng này",
            en="correct the code or the name so that both point to the unit this row is for",
        ),
        'mã "{code}" là {code_unit} nhưng tên "{name}" là {name_unit}',
        'the code "{code}" is {code_unit} but the name "{name}" is {name_unit}',
    ),
    "report_date_after_sent": _same(
        Words(
            vi="hãy ghi ngày mà số liệu thuộc về; ngày đó không thể sau ngày gửi",
            en="write the day the figures are for; it cannot be after the day you send them",
        ),
        'ngày báo cáo "{value}" ở sau ngày gửi ({sent_day})',
        'the report date "{value}" is after the day it was sent ({sent_day})',
    ),
    "report_date_outside_campaign": _same(
        Words(
            vi="hãy kiểm tra lại ngày, ghi dạng ngày/tháng/năm, ví dụ 04/08/2020",
            en="check the date, written as day/month/year, e.g. 04/08/2020",
        ),
        'ngày báo cáo "{value}" nằm ngoài thời gian chiến dịch (từ {start} đến {end})',
        'the report date "{value}" is outside the campaign ({start} to {end})',
    ),
    # --- rows of an install export ------------------------------------------------------
    "export_date_format": _same(
        Words(
            vi="hãy ghi ngày dạng YYYY-MM-DD, ví dụ 2020-08-04",
            en="write the date as YYYY-MM-DD, e.g. 2020-08-04",
        ),
        'giá trị "{value}" không phải ngày dạng YYYY-MM-DD',
        'the value "{value}" is not a date written YYYY-MM-DD',
    ),
    "export_date_empty": _same(
        Words(
            vi="hãy ghi ngày của số liệu, ví dụ 2020-08-04",
            en="write the day of the figures, e.g. 2020-08-04",
        ),
        "ô ngày để trống",
        "the date is empty",
    ),
    "export_other_day": _same(
        Words(
            vi="mỗi tệp chỉ chứa số liệu của ngày ghi trong tên tệp; số liệu ngày khác hãy "
            "gửi trong tệp mang tên ngày đó",
            en="a file holds only the day in its name; send another day's figures in a file "
            "named for that day",
        ),
        'ngày "{value}" khác ngày ghi trong tên tệp ({day})',
        'the date "{value}" is not the day in the file name ({day})',
    ),
    "export_level": _same(
        Words(vi="hãy ghi {levels}", en="write {levels}"),
        'cấp "{value}" không hợp lệ',
        'the level "{value}" is not one of the levels',
    ),
    "export_level_empty": _same(
        Words(vi="hãy ghi {levels}", en="write {levels}"),
        "ô cấp đơn vị để trống",
        "the level is empty",
    ),
    "export_unit_unknown": _same(
        Words(
            vi="hãy ghi mã GSO đúng cấp: {codes}", en="write the GSO code of that level: {codes}"
        ),
        'mã "{value}" không phải mã {level} nào đã biết',
        'the code "{value}" is not a known {level} code',
    ),
    "export_unit_empty": _same(
        Words(
            vi="hãy ghi mã GSO đúng cấp: {codes}", en="write the GSO code of that level: {codes}"
        ),
        "ô mã đơn vị để trống",
        "the unit code is empty",
    ),
    "export_installs": _same(
        Words(
            vi="hãy ghi số nguyên không âm, ví dụ 120000",
            en="write a whole non-negative number, e.g. 120000",
        ),
        'giá trị "{value}" không phải số nguyên không âm',
        'the value "{value}" is not a whole non-negative number',
    ),
    "export_installs_empty": _same(
        Words(
            vi="hãy ghi số lượt cài đặt, ví dụ 120000",
            en="write the number of installs, e.g. 120000",
        ),
        "ô số lượt cài đặt để trống",
        "the number of installs is empty",
    ),
    "export_phone": _same(
        Words(
            vi="hãy ghi số nguyên không âm, hoặc để trống nếu không có",
            en="write a whole non-negative number, or leave it empty",
        ),
        'giá trị "{value}" không phải số nguyên không âm',
        'the value "{value}" is not a whole non-negative number',
    ),
    "export_duplicate": _same(
        Words(
            vi="mỗi đơn vị chỉ ghi một dòng; dòng đầu tiên đã được nhận, dòng này bị bỏ qua",
            en="write one row per unit; the first one was kept and this one left out",
        ),
        "{level} {code} đã có ở một dòng trước trong tệp",
        "{level} {code} already has a row earlier in the file",
    ),
    # --- events of an event export (counted, the first rows named) ---------------------
    "event_time_invalid": _same(
        Words(
            vi="event_time phải là thời điểm (timestamp, giờ UTC)",
            en="event_time must be a timestamp (UTC)",
        ),
        "{count} sự kiện có event_time không phải thời điểm hợp lệ ({rows})",
        "{count} event(s) with an event_time that is not a timestamp ({rows})",
    ),
    "device_id_empty": _same(
        Words(vi="mỗi sự kiện cần device_id", en="every event needs a device_id"),
        "{count} sự kiện có device_id để trống ({rows})",
        "{count} event(s) with an empty device_id ({rows})",
    ),
    "event_kind": _same(
        Words(vi="hãy ghi install hoặc uninstall", en="write install or uninstall"),
        "{count} sự kiện có event không phải install hay uninstall ({rows})",
        "{count} event(s) whose event is neither install nor uninstall ({rows})",
    ),
    "event_other_day": _same(
        Words(
            vi="mỗi tệp chỉ chứa sự kiện của ngày ghi trong tên tệp, tính theo giờ Việt Nam",
            en="a file holds only the events of the day in its name, in Vietnam time",
        ),
        "{count} sự kiện có event_time không thuộc ngày {day} theo giờ Việt Nam ({rows})",
        "{count} event(s) whose event_time is not on {day} in Vietnam time ({rows})",
    ),
    "event_district_unknown": _same(
        Words(
            vi="hãy ghi mã huyện GSO 3 chữ số, hoặc để trống",
            en="write the 3-digit GSO district code, or leave it empty",
        ),
        "{count} sự kiện có district_code không phải mã huyện đã biết ({rows})",
        "{count} event(s) whose district_code is not a known district ({rows})",
    ),
    # --- whole files --------------------------------------------------------------------
    "file_too_big": _same(
        Words(
            vi="hãy gửi tệp chỉ gồm bảng báo cáo, hoặc chia thành nhiều tệp nhỏ hơn",
            en="send a file holding only the report table, or split it into smaller files",
        ),
        "tệp nặng {size} byte, vượt giới hạn {limit} byte nên không được đọc",
        "the file is {size} bytes, over the limit of {limit}, so it was not read",
    ),
    "file_unreadable": _same(
        Words(
            vi="tệp được giữ lại để bộ phận dữ liệu kiểm tra; hãy lưu lại tệp dạng Excel "
            "(.xlsx) hoặc CSV UTF-8 rồi gửi lại",
            en="the file is kept for the data team; save it again as Excel (.xlsx) or CSV "
            "UTF-8 and send it again",
        ),
        "không đọc được tệp",
        "the file could not be read",
    ),
    "lock_file": _same(
        Words(
            vi="hãy gửi chính tệp báo cáo (tên không bắt đầu bằng ~$)",
            en="send the workbook itself (its name does not start with ~$)",
        ),
        "đây là tệp khóa tạm Excel tạo ra khi đang mở bảng tính (~$...), không phải báo cáo",
        "this is the lock file Excel leaves beside an open workbook (~$...), not a report",
    ),
    "unsupported_type": _same(
        Words(
            vi="hãy gửi báo cáo dạng Excel (.xlsx), CSV (.csv) hoặc JSON (.json)",
            en="send the report as Excel (.xlsx), CSV (.csv) or JSON (.json)",
        ),
        'không nhận loại tệp "{extension}"',
        'files of type "{extension}" are not accepted',
    ),
    "not_utf8": _same(
        Words(
            vi='trong Excel chọn File > Save As > "CSV UTF-8 (Comma delimited)" hoặc '
            '"Excel Workbook (.xlsx)" rồi gửi lại',
            en='in Excel choose File > Save As > "CSV UTF-8 (Comma delimited)" or '
            '"Excel Workbook (.xlsx)" and send it again',
        ),
        "tệp CSV không lưu theo bảng mã UTF-8 (chữ lỗi đầu tiên ở dòng {line}), nên chữ tiếng "
        "Việt sẽ bị sai",
        "the CSV file is not saved as UTF-8 (the first wrong character is on line {line}), so "
        "Vietnamese text would be garbled",
    ),
    "empty_file": _same(
        Words(
            vi="hãy điền báo cáo vào mẫu, lưu lại rồi gửi",
            en="fill in the report template, save it and send it",
        ),
        "tệp trống, không có nội dung",
        "the file is empty",
    ),
    "no_header": _same(
        Words(
            vi='hãy dùng mẫu báo cáo: dòng tiêu đề có cột "Ngày báo cáo" và "Mã đơn vị" '
            'hoặc "Tên đơn vị"',
            en='use the report template: a header row with "Ngày báo cáo" (report date) and '
            '"Mã đơn vị" (unit code) or "Tên đơn vị" (unit name)',
        ),
        "không tìm thấy dòng tiêu đề của bảng báo cáo trong {rows} dòng đầu",
        "no header row of the report table in the first {rows} rows",
    ),
    "no_table_in_workbook": _same(
        Words(
            vi='hãy dùng mẫu báo cáo: dòng tiêu đề có cột "Ngày báo cáo" và "Mã đơn vị" '
            'hoặc "Tên đơn vị"',
            en='use the report template: a header row with "Ngày báo cáo" (report date) and '
            '"Mã đơn vị" (unit code) or "Tên đơn vị" (unit name)',
        ),
        "không trang nào có bảng báo cáo: {sheets}",
        "no sheet holds the report table: {sheets}",
    ),
    "empty_sheet": _same(
        Words(
            vi="hãy điền báo cáo vào trang này, lưu lại rồi gửi",
            en="fill in the report on this sheet, save it and send it",
        ),
        "trang này trống, không có số liệu",
        "the sheet is empty: it holds no figures",
    ),
    "empty_sheets": _same(
        Words(
            vi="hãy điền báo cáo vào mẫu, lưu lại rồi gửi",
            en="fill in the report template, save it and send it",
        ),
        "không trang nào có số liệu: các trang {sheets} đều trống",
        "no sheet holds any figures: the sheets {sheets} are all empty",
    ),
    "data_on_other_sheet": _same(
        Words(
            vi='hãy chép số liệu vào ngay dưới dòng tiêu đề ở trang "{header_sheet}" rồi gửi lại',
            en='copy the figures right under the header row on sheet "{header_sheet}" and '
            "send it again",
        ),
        'trang "{header_sheet}" có dòng tiêu đề nhưng không có số liệu; số liệu lại nằm ở '
        'trang "{data_sheet}", nơi không có dòng tiêu đề',
        'sheet "{header_sheet}" has the header row but no figures; the figures are on sheet '
        '"{data_sheet}", which has no header row',
    ),
    "legacy_xls": _same(
        _SAVE_AS,
        "đây là tệp Excel 97-2003 (.xls) kiểu cũ",
        "this is an old Excel 97-2003 workbook (.xls)",
    ),
    "encrypted_workbook": _same(
        Words(
            vi="hãy gỡ mật khẩu (File > Info > Protect Workbook > Encrypt with Password, xóa "
            "mật khẩu, lưu) rồi gửi lại",
            en="remove the password (File > Info > Protect Workbook > Encrypt with Password, "
            "clear it, save) and send it again",
        ),
        "bảng tính được đặt mật khẩu nên không đọc được",
        "the workbook is protected with a password, so it cannot be read",
    ),
    "html_as_spreadsheet": _same(
        _SAVE_AS,
        "đây là trang web (HTML) được lưu với đuôi tên của bảng tính, không phải tệp Excel",
        "this is a web page (HTML) saved with a spreadsheet's name, not an Excel file",
    ),
    "not_a_workbook": _same(
        _SAVE_AS,
        "nội dung tệp không phải bảng tính Excel (.xlsx)",
        "the file's content is not an Excel workbook (.xlsx)",
    ),
    "damaged_workbook": _same(
        _SAVE_AS,
        "tệp Excel bị hỏng hoặc chưa được gửi trọn vẹn",
        "the Excel file is damaged or was not sent in full",
    ),
    "workbook_too_large": _same(
        Words(
            vi="hãy xóa các trang, hình ảnh và định dạng thừa, chỉ giữ bảng báo cáo, rồi gửi lại",
            en="delete the extra sheets, pictures and formatting, keep only the report table, "
            "and send it again",
        ),
        "khi giải nén, tệp Excel lớn {size} byte, vượt giới hạn {limit} byte",
        "the Excel file expands to {size} bytes, over the limit of {limit}",
    ),
    "workbook_unreadable": _same(
        _SAVE_AS,
        "không đọc được tệp Excel",
        "the Excel file cannot be read",
    ),
    "json_invalid": _same(
        Words(
            vi="hãy xuất lại tệp JSON từ phần mềm, hoặc gửi báo cáo dạng Excel (.xlsx)",
            en="export the JSON again from the software, or send the report as Excel (.xlsx)",
        ),
        "tệp JSON sai cú pháp ở dòng {line}, ký tự thứ {char}",
        "the JSON is invalid at line {line}, character {char}",
    ),
    "json_too_deep": _same(
        Words(
            vi="hãy gửi báo cáo dạng danh sách các bản ghi, hoặc dạng Excel (.xlsx)",
            en="send the report as a list of records, or as Excel (.xlsx)",
        ),
        "tệp JSON lồng nhau quá sâu, không phải một báo cáo",
        "the JSON is nested too deeply to be a report",
    ),
    "json_not_list": _same(
        Words(
            vi='dạng đúng: một danh sách các bản ghi, hoặc một đối tượng có khóa "rows" là '
            "danh sách",
            en='the right shape: a list of records, or an object whose "rows" is a list',
        ),
        "tệp JSON không chứa danh sách bản ghi báo cáo",
        "the JSON holds no list of report records",
    ),
    "json_no_keys": _same(
        Words(
            vi="mỗi bản ghi cần khóa report_date (Ngày báo cáo) và unit_code (Mã đơn vị) hoặc "
            "unit_name (Tên đơn vị)",
            en="every record needs report_date and unit_code or unit_name",
        ),
        "các bản ghi JSON thiếu ngày báo cáo hoặc đơn vị (các khóa có: {found})",
        "the JSON records lack the report date or the unit (keys found: {found})",
    ),
    "missing_column": _same(
        Words(
            vi="hãy dùng mẫu báo cáo, có cột {missing}",
            en="use the report template, with the column {missing}",
        ),
        "thiếu cột {missing} (các cột đọc được: {found})",
        "the column {missing} is missing (columns read: {found})",
    ),
    "no_data_rows": _same(
        Words(
            vi="hãy điền số liệu vào ngay dưới dòng tiêu đề rồi gửi lại",
            en="fill in the figures right under the header row and send it again",
        ),
        "có dòng tiêu đề nhưng không có dòng số liệu nào",
        "there is a header row but no row of figures",
    ),
    "no_usable_row": _same(
        _RESEND,
        "không dòng nào được nhận: cả {count} dòng đều bị loại, mỗi dòng có thông báo riêng",
        "no row could be accepted: all {count} rows were rejected, each with its own message",
    ),
    "export_name": _same(
        Words(
            vi="hãy đặt tên installs_YYYYMMDD theo ngày của số liệu, ví dụ "
            "installs_20200804.csv (hoặc .csv.gz, .parquet)",
            en="name it installs_YYYYMMDD after the day of the figures, e.g. "
            "installs_20200804.csv (or .csv.gz, .parquet)",
        ),
        "tên tệp không theo quy định installs_YYYYMMDD",
        "the file name does not follow installs_YYYYMMDD",
    ),
    "file_name_day": _same(
        Words(
            vi="hãy ghi trong tên tệp một ngày có thật, dạng YYYYMMDD, ví dụ 20200804",
            en="put a real day in the file name, as YYYYMMDD, e.g. 20200804",
        ),
        '"{value}" trong tên tệp không phải ngày có thật',
        '"{value}" in the file name is not a calendar day',
    ),
    "events_unit_set": _same(
        Words(
            vi="hãy gửi số liệu theo ngày dạng installs_YYYYMMDD.csv, mỗi dòng ghi cấp {levels}",
            en="send the day's figures as installs_YYYYMMDD.csv instead, each row at level "
            "{levels}",
        ),
        "tệp sự kiện ghi mã huyện năm 2020, nhưng chiến dịch này dùng đơn vị hành chính "
        "{units}, không còn cấp huyện",
        "an event-level export names 2020 districts, but this campaign reports on the {units} "
        "units, which have no districts",
    ),
    "export_unreadable": _same(
        Words(
            vi="hãy kiểm tra tệp không bị hỏng và đúng định dạng theo đuôi tên (CSV, CSV.GZ "
            "hoặc Parquet) rồi gửi lại",
            en="check that the file is whole and in the format its name says (CSV, CSV.GZ or "
            "Parquet) and send it again",
        ),
        "không đọc được tệp ({detail})",
        "the file cannot be read ({detail})",
    ),
    "export_missing_columns": _same(
        Words(
            vi="tệp cần các cột {required}",
            en="the file needs the columns {required}",
        ),
        "thiếu cột {missing} (các cột có: {found})",
        "the column(s) {missing} are missing (columns found: {found})",
    ),
    "no_usable_event": _same(
        _RESEND,
        "không sự kiện nào được nhận: cả {count} sự kiện đều bị loại",
        "no event could be accepted: all {count} events were rejected",
    ),
    "no_events": _same(
        Words(vi="hãy gửi tệp có sự kiện của ngày", en="send a file with the day's events"),
        "tệp không có sự kiện nào",
        "the file holds no event",
    ),
}


def language_of(language: str | None) -> str:
    """A language the catalogue has (Vietnamese unless English is asked for)."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def shown(value: object) -> str | None:
    """A cell's value as the sender sees it: dates as DD/MM/YYYY, whole floats without
    ``.0``, one line, at most a few dozen characters; None for an empty cell."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return str(value).upper()  # as a spreadsheet shows it
    if isinstance(value, datetime):
        if value.time() == time():
            return f"{value:%d/%m/%Y}"
        return f"{value:%d/%m/%Y} " + shown(value.time())
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, time):
        return f"{value:%H:%M}" if value.second == 0 else f"{value:%H:%M:%S}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = " ".join(str(value).split())
    if text == "":
        return None
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def number(value: int, language: str) -> str:
    """A whole number with thousands grouped as people read it: 1.234 (vi), 1,234 (en)."""
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if language_of(language) == "vi" else grouped


def day(value: date, language: str) -> str:
    """A calendar day as people read it: 04/08/2020 (vi), 2020-08-04 (en)."""
    return f"{value:%d/%m/%Y}" if language_of(language) == "vi" else value.isoformat()


def _detail(value: object, language: str) -> str:
    if isinstance(value, Words):
        return value.pick(language)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return number(value, language)
    if isinstance(value, date):
        return day(value, language)
    if isinstance(value, list | tuple):
        return "; ".join(_detail(item, language) for item in value)
    return "" if value is None else str(value)


def quoted(values: Iterable[object]) -> str:
    """Names (sheets, columns) as a message lists them: "A", "B"."""
    return ", ".join(f'"{value}"' for value in values)


def one_of(items: list[str], conjunction: str) -> str:
    """Choices as a message lists them: ``a, b or c`` (with ``conjunction``)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def place(
    language: str,
    *,
    file: str | None,
    sheet: str | None = None,
    row: int | None = None,
    row_kind: str = "row",
    column: str | None = None,
    header: str | None = None,
) -> str:
    """Where the problem is: file, sheet, row (as a spreadsheet shows it; a JSON record or
    a Parquet data row by its position), column letter and header as written."""
    vi = language_of(language) == "vi"
    parts = []
    if file is not None:
        parts.append(f'{"Tệp" if vi else "File"} "{file}"')
    if sheet is not None:
        parts.append(f'{"trang" if vi else "sheet"} "{sheet}"')
    if row is not None:
        label = {
            "row": ("dòng {}", "row {}"),
            "record": ("bản ghi thứ {}", "record {}"),
            "data_row": ("dòng dữ liệu thứ {}", "data row {}"),
        }[row_kind][0 if vi else 1]
        parts.append(label.format(row))
    if header is not None or column is not None:
        word = "cột" if vi else "column"
        letter = f" {column}" if column else ""
        parts.append(f'{word}{letter} "{header}"' if header is not None else f"{word}{letter}")
    return ", ".join(parts)


def render(
    problem: str,
    language: str,
    *,
    file: str | None,
    sheet: str | None = None,
    row: int | None = None,
    row_kind: str = "row",
    column: str | None = None,
    header: str | None = None,
    value: object = None,
    **details: object,
) -> str:
    """The sender's message for ``problem`` (a key of :data:`CATALOGUE`) in ``language``."""
    language = language_of(language)
    what, hint = getattr(CATALOGUE[problem], language)
    values = {name: _detail(detail, language) for name, detail in details.items()}
    values["value"] = shown(value) or ""
    where = place(
        language,
        file=file,
        sheet=sheet,
        row=row,
        row_kind=row_kind,
        column=column,
        header=header,
    )
    body = f"{what.format(**values)}; {hint.format(**values)}."
    return f"{where}: {body}" if where else body[:1].upper() + body[1:]
