"""Reading directory files (places, units, users): CSV or XLSX, Chinese headers or English aliases.

A file is a header row and data rows. Headers are matched after folding case, width and spaces
and dropping a trailing ``*`` or a bracketed note ("编码（必填）"), so a spreadsheet a person
typed reads the same as one a script wrote. Row numbers are the spreadsheet's: the header is
row 1, the first data row row 2; blank rows are skipped but keep their numbers.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from enum import StrEnum

from openpyxl import load_workbook

from workflows.core.errors import ErrorCode, FieldError, InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
ROLE_SEPARATORS = re.compile(r"[;；、]")


class ImportKind(StrEnum):
    """What a directory file holds."""

    PLACES = "places"
    UNITS = "units"
    USERS = "users"
    ROOMS = "rooms"       # mediation rooms of the units
    EXPERTS = "experts"   # the expert pool: each row an expert and their sign-in account


@dataclass(frozen=True)
class Column:
    """One column of a directory file: its key, its Chinese header and the other names it takes."""

    key: str
    title: str
    aliases: tuple[str, ...] = ()
    required: bool = False


COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.PLACES: (
        Column("code", "编码", ("地点编码", "code"), True),
        Column("name", "名称", ("地点名称", "name"), True),
        Column("level", "层级", ("level",), True),
        Column("parent_code", "上级编码", ("上级地点编码", "parent_code", "parent")),
        Column("address", "地址", ("标准地址", "address")),
    ),
    ImportKind.UNITS: (
        Column("code", "编码", ("单位编码", "code"), True),
        Column("name", "名称", ("单位名称", "name"), True),
        Column("kind", "类型", ("单位类型", "kind"), True),
        Column("place_code", "所在地编码", ("地点编码", "place_code", "place")),
    ),
    ImportKind.USERS: (
        Column("username", "用户名", ("账号", "username"), True),
        Column("display_name", "姓名", ("display_name", "name"), True),
        Column("roles", "角色", ("roles", "role"), True),
        Column("unit_code", "单位编码", ("所属单位编码", "unit_code", "unit")),
        Column("mobile", "手机", ("手机号", "mobile")),
    ),
    ImportKind.ROOMS: (
        Column("code", "编码", ("调解室编码", "code"), True),
        Column("name", "名称", ("调解室名称", "name"), True),
        Column("unit_code", "单位编码", ("所属单位编码", "unit_code", "unit"), True),
        Column("capacity", "容纳人数", ("人数", "capacity")),
        Column("recording", "录音录像", ("录音", "recording")),
        Column("video", "视频设备", ("视频", "video")),
        Column("accessible", "无障碍", ("accessible",)),
    ),
    ImportKind.EXPERTS: (
        Column("username", "用户名", ("账号", "username"), True),
        Column("display_name", "姓名", ("display_name", "name"), True),
        Column("field", "专业领域", ("领域", "field"), True),
        Column("unit_code", "单位编码", ("所属单位编码", "unit_code", "unit"), True),
        Column("organisation", "工作单位", ("organisation",)),
        Column("organisation_code", "统一社会信用代码", ("工作单位代码", "organisation_code")),
        Column("contact", "联系电话", ("电话", "手机", "contact")),
        Column("available_days", "可约日", ("可约时间", "available_days", "days")),
    ),
}


def column_title(kind: str, key: str) -> str:
    """The Chinese header of a column ("上级编码" for ``parent_code``); the key if unknown."""
    for column in COLUMNS.get(ImportKind(kind), ()) if kind in set(ImportKind) else ():
        if column.key == key:
            return column.title
    return key


@dataclass(frozen=True)
class RowProblem:
    """A refusal (or a warning) about one row and column.

    ``row`` is the spreadsheet row number (header = 1; 0 = the file as a whole); ``column`` the
    column key ("" = the whole row); ``error`` the code and its parameters."""

    row: int
    column: str
    error: FieldError


@dataclass(frozen=True)
class ImportRow:
    """One data row: its spreadsheet row number and its cells by column key (stripped text)."""

    number: int
    values: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str:
        return self.values.get(key, "")


class ImportRejected(InvalidInput):
    """A file or some of its rows were refused; nothing was imported. ``problems`` say where.

    As an ``InvalidInput`` its field errors are keyed ``"<row>.<column>"`` (a page that does not
    catch it still answers 422 with every reason)."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        errors: dict[str, FieldError] = {}
        for problem in problems:
            key = f"{problem.row}.{problem.column}"
            while key in errors:
                key += "+"
            errors[key] = problem.error
        super().__init__(errors)


def parse_file(kind: str, filename: str, data: bytes) -> list[ImportRow]:
    """The data rows of a CSV or XLSX file of ``kind`` (places, units, users).

    The format comes from the file name (.csv / .xlsx), else from the content. Raises
    ``ImportRejected`` for what concerns the file as a whole: type, encoding, size, missing,
    unknown or repeated columns, no data rows. Cell values are checked by ``preview_import``."""
    return parse_table(COLUMNS[ImportKind(kind)], filename, data)


def parse_table(columns: tuple[Column, ...], filename: str, data: bytes) -> list[ImportRow]:
    """The data rows of a CSV or XLSX file with these columns (other imports, e.g. devices,
    follow the directory's conventions through this call)."""
    if len(data) > MAX_BYTES:
        raise _file_problem(ErrorCode.FILE_TOO_LARGE, limit=f"{MAX_BYTES // (1024 * 1024)} MB")
    name = (filename or "").lower()
    is_xlsx = name.endswith((".xlsx", ".xlsm")) or (
        not name.endswith((".csv", ".txt")) and data[:4] == b"PK\x03\x04")
    if name.endswith(".xls"):
        raise _file_problem(ErrorCode.IMPORT_FILE_TYPE)
    table = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    return _rows(columns, table)


def _file_problem(code: str, **params: object) -> ImportRejected:
    return ImportRejected([RowProblem(0, "", FieldError(code, params))])


def _csv_rows(data: bytes) -> list[list[str]]:
    # Excel writes "CSV UTF-8" with a BOM and plain "CSV" in the Windows code page (GBK)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _file_problem(ErrorCode.IMPORT_FILE_UNREADABLE)
    if "\x00" in text:
        raise _file_problem(ErrorCode.IMPORT_FILE_UNREADABLE)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""),
                                                  delimiter=delimiter)]
    except csv.Error:
        raise _file_problem(ErrorCode.IMPORT_FILE_UNREADABLE) from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise _file_problem(ErrorCode.IMPORT_FILE_UNREADABLE) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        return [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell(value: object) -> str:
    """A cell as text; a number typed into a code or mobile column loses Excel's ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fold(header: str) -> str:
    text = unicodedata.normalize("NFKC", header or "").strip().lower()
    text = re.sub(r"[(（\[【].*?[)）\]】]\s*$", "", text)
    return re.sub(r"[\s*_\-]", "", text)


def _rows(columns: tuple[Column, ...], table: list[list[str]]) -> list[ImportRow]:
    header_at = next((i for i, row in enumerate(table) if any(c.strip() for c in row)), None)
    if header_at is None:
        raise _file_problem(ErrorCode.IMPORT_NO_ROWS)
    positions = _header(columns, table[header_at], header_at + 1)
    rows = []
    for number, raw_row in enumerate(table[header_at + 1:], start=header_at + 2):
        values = {key: (raw_row[i] if i < len(raw_row) else "").strip()
                  for i, key in positions.items()}
        if any(values.values()):
            rows.append(ImportRow(number, values))
    if not rows:
        raise _file_problem(ErrorCode.IMPORT_NO_ROWS)
    if len(rows) > MAX_ROWS:
        raise _file_problem(ErrorCode.IMPORT_TOO_MANY_ROWS, limit=MAX_ROWS)
    return rows


def _header(columns: tuple[Column, ...], header: list[str], number: int) -> dict[int, str]:
    """Column key by position; unknown, repeated or missing columns refuse the file."""
    names = {_fold(name): column.key for column in columns
             for name in (column.title, column.key, *column.aliases)}
    problems: list[RowProblem] = []
    positions: dict[int, str] = {}
    for index, raw in enumerate(header):
        if not raw.strip():
            continue
        key = names.get(_fold(raw))
        if key is None:
            problems.append(RowProblem(number, "", FieldError(
                ErrorCode.UNKNOWN_COLUMN, {"column": raw.strip()})))
        elif key in positions.values():
            problems.append(RowProblem(number, key, FieldError(
                ErrorCode.DUPLICATE_COLUMN, {"column": raw.strip()})))
        else:
            positions[index] = key
    for column in columns:
        if column.required and column.key not in positions.values():
            problems.append(RowProblem(number, column.key, FieldError(
                ErrorCode.MISSING_COLUMN, {"column": column.title})))
    if problems:
        raise ImportRejected(problems)
    return positions


def split_roles(text: str) -> list[str]:
    """The roles of a users row: separated by ``;`` (also ``；`` or ``、``)."""
    return [part.strip() for part in ROLE_SEPARATORS.split(text or "") if part.strip()]
