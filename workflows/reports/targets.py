"""KPI targets as dated records: which one applies, the admin's edits and the XLSX import.

A figure is compared with the target valid on the last day of its period. A target may be set
for a place (its code as ``scope``); the most specific one wins: the scope place itself, then
its ancestors up to the district, then the targets for every scope (``*``). Every change is
audited (``kpi_target_changed``) with the record before and after.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.models import ALL_SCOPES, KpiTarget, Place
from workflows.reports.kpi_cases import KPI_BY_ID
from workflows.runtime.unit_of_work import UnitOfWork

COMPARATORS = (">=", "<=")
PLAN = "《区综治中心机制建设方案》"
MAX_IMPORT_ROWS = 1000
# the XLSX import's columns: key, Chinese header (the English key is accepted too)
COLUMNS = (("kpi", "指标"), ("scope", "范围"), ("valid_from", "起始日期"),
           ("valid_to", "截止日期"), ("comparator", "比较"), ("value", "目标值"),
           ("source", "依据"))
COMPARATOR_WORDS = {">=": ">=", "≥": ">=", "不低于": ">=", "<=": "<=", "≤": "<=", "不高于": "<="}
COMPARATOR_NAMES = {">=": "不低于", "<=": "不高于"}        # as the download writes them
KPI_BY_NAME = {k.name: k.id for k in KPI_BY_ID.values()}   # the import takes names or codes


@dataclass(frozen=True)
class TargetView:
    """A target as the figures and the API show it."""

    id: int
    kpi: str
    scope: str
    valid_from: date
    valid_to: date | None
    comparator: str
    value: float
    source: str

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def as_dict(self) -> dict[str, Any]:
        return {"comparator": self.comparator, "value": self.value,
                "valid_from": self.valid_from.isoformat(),
                "valid_to": self.valid_to.isoformat() if self.valid_to else None,
                "source": self.source}


def _view(row: KpiTarget) -> TargetView:
    return TargetView(row.id, row.kpi, row.scope, row.valid_from, row.valid_to, row.comparator,
                      float(row.value), row.source)


def all_targets(session: Session) -> list[TargetView]:
    """Every target (a small table: read once per request)."""
    rows = session.scalars(select(KpiTarget).order_by(KpiTarget.kpi, KpiTarget.scope,
                                                      KpiTarget.valid_from, KpiTarget.id))
    return [_view(row) for row in rows]


def scope_names(session: Session, targets: Iterable[TargetView]) -> dict[str, str]:
    """The place names of the targets' scopes (place codes), in one query; '*' is left out."""
    codes = {t.scope for t in targets if t.scope != ALL_SCOPES}
    if not codes:
        return {}
    return dict(session.execute(select(Place.code, Place.name).where(Place.code.in_(codes))).all())


def pick(targets: Iterable[TargetView], kpi: str, day: date,
         scopes: tuple[str, ...] = ()) -> TargetView | None:
    """The target of ``kpi`` valid on ``day`` for the most specific of ``scopes`` (place codes,
    nearest first), else the one for every scope."""
    valid = [t for t in targets if t.kpi == kpi and t.valid_on(day)]
    for scope in (*scopes, ALL_SCOPES):
        found = [t for t in valid if t.scope == scope]
        if found:
            return max(found, key=lambda t: (t.valid_from, t.id))
    return None


def target_for(session: Session, kpi: str, day: date,
               scopes: tuple[str, ...] = ()) -> TargetView | None:
    return pick(all_targets(session), kpi, day, scopes)


# -- changes ------------------------------------------------------------------------------------
def check(session: Session, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a target from form or file values; InvalidInput with every problem."""
    errors: dict[str, FieldError] = {}
    kpi = str(raw.get("kpi") or "").strip()
    kpi = KPI_BY_NAME.get(kpi, kpi.upper())
    if kpi not in KPI_BY_ID:
        errors["kpi"] = FieldError(ErrorCode.UNKNOWN_KPI, {"kpi": kpi})
    scope = str(raw.get("scope") or "").strip() or ALL_SCOPES
    if scope not in (ALL_SCOPES, "全区") and session.scalar(
            select(Place.id).where(Place.code == scope)) is None:
        errors["scope"] = FieldError(ErrorCode.UNKNOWN_PLACE, {"code": scope})
    scope = ALL_SCOPES if scope == "全区" else scope
    comparator = COMPARATOR_WORDS.get(str(raw.get("comparator") or "").strip())
    if comparator is None:
        errors["comparator"] = FieldError(ErrorCode.BAD_COMPARATOR)
    high = 100.0 if kpi in KPI_BY_ID and KPI_BY_ID[kpi].unit == "percent" else 10000.0
    value = _number(raw.get("value"))
    if value is None or not 0 <= value <= high:
        errors["value"] = FieldError(ErrorCode.BAD_TARGET_VALUE, {"high": int(high)})
    start, stop = _day(raw.get("valid_from")), _day(raw.get("valid_to"))
    valid_from = start if isinstance(start, date) else None
    valid_to = stop if isinstance(stop, date) else None
    if valid_from is None:
        errors["valid_from"] = FieldError(FieldCode.NOT_DATE)
    if stop is False:
        errors["valid_to"] = FieldError(FieldCode.NOT_DATE)
    elif valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = FieldError(ErrorCode.DATES_REVERSED)
    source = str(raw.get("source") or "").strip()[:200]
    if not source:
        errors["source"] = FieldError(ErrorCode.SOURCE_REQUIRED)
    if errors:
        raise InvalidInput(errors)
    return {"kpi": kpi, "scope": scope, "valid_from": valid_from, "valid_to": valid_to,
            "comparator": comparator, "value": value, "source": source}


def _number(value: Any) -> float | None:
    try:
        number = float(str(value).strip().rstrip("%％"))
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _day(value: Any) -> date | None | bool:
    """A date, None when empty, False when it is not a date."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return False


def _record(row: KpiTarget) -> dict[str, Any]:
    return {"kpi": row.kpi, "scope": row.scope, "valid_from": row.valid_from.isoformat(),
            "valid_to": row.valid_to.isoformat() if row.valid_to else None,
            "comparator": row.comparator, "value": row.value, "source": row.source}


def save_target(uow: UnitOfWork, actor: Actor, raw: Mapping[str, Any],
                target_id: int | None = None) -> int:
    """Add a target or change one; audited with the values before and after."""
    with uow:
        fields = check(uow.session, raw)
        if target_id is None:
            row = KpiTarget(**fields)
            uow.session.add(row)
            before = None
        else:
            found = uow.session.get(KpiTarget, target_id)
            if found is None:
                raise NotFound(ErrorCode.TARGET_NOT_FOUND, target_id=target_id)
            row, before = found, _record(found)
            for key, value in fields.items():
                setattr(row, key, value)
        row.updated_at, row.updated_by = uow.clock.now(), str(actor.id)
        uow.session.flush()
        uow.audit.record(AuditAction.KPI_TARGET_CHANGED, actor, object_type="kpi_target",
                         object_id=row.id, change="added" if before is None else "edited",
                         before=before, after=_record(row))
        uow.commit()
        return row.id


def delete_target(uow: UnitOfWork, actor: Actor, target_id: int) -> None:
    with uow:
        row = uow.session.get(KpiTarget, target_id)
        if row is None:
            raise NotFound(ErrorCode.TARGET_NOT_FOUND, target_id=target_id)
        before = _record(row)
        uow.session.delete(row)
        uow.audit.record(AuditAction.KPI_TARGET_CHANGED, actor, object_type="kpi_target",
                         object_id=target_id, change="removed", before=before, after=None)
        uow.commit()


def import_xlsx(uow: UnitOfWork, actor: Actor, data: bytes) -> int:
    """Add every row of an XLSX sheet (header row: 指标, 范围, 起始日期, 截止日期, 比较, 目标值,
    依据) as targets, all or nothing; the rows with problems are named in the error."""
    rows = _sheet_rows(data)
    with uow:
        checked, bad = [], []
        for number, raw in rows:
            try:
                checked.append(check(uow.session, raw))
            except InvalidInput:
                bad.append(str(number))
        if bad:
            raise InvalidInput({"file": FieldError(ErrorCode.ROW_ERRORS,
                                                   {"rows": ", ".join(bad[:20])})})
        for fields in checked:
            row = KpiTarget(**fields, updated_at=uow.clock.now(), updated_by=str(actor.id))
            uow.session.add(row)
            uow.session.flush()
            uow.audit.record(AuditAction.KPI_TARGET_CHANGED, actor, object_type="kpi_target",
                             object_id=row.id, change="imported", before=None,
                             after=_record(row))
        uow.commit()
        return len(checked)


def _sheet_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        table = [list(row) for row in sheet.iter_rows(values_only=True)] if sheet else []
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInput({"file": FieldError(ErrorCode.IMPORT_FILE_UNREADABLE)}) from None
    if len(table) < 2:
        raise InvalidInput({"file": FieldError(ErrorCode.IMPORT_NO_ROWS)})
    if len(table) > MAX_IMPORT_ROWS + 1:
        raise InvalidInput({"file": FieldError(ErrorCode.IMPORT_TOO_MANY_ROWS,
                                               {"limit": MAX_IMPORT_ROWS})})
    names = {title: key for key, title in COLUMNS} | {key: key for key, _title in COLUMNS}
    header = [names.get(str(cell or "").strip()) for cell in table[0]]
    for key, title in COLUMNS:
        if key not in header and key != "valid_to":
            raise InvalidInput({"file": FieldError(ErrorCode.MISSING_COLUMN, {"column": title})})
    out = []
    for number, cells in enumerate(table[1:], start=2):
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        out.append((number, {key: cell for key, cell in zip(header, cells, strict=False) if key}))
    return out


def template_xlsx(targets: list[TargetView]) -> bytes:
    """The targets as an XLSX in the import's layout (download, edit, import): each KPI by its
    Chinese name, the district scope as 全区, the comparison in words (the import takes all)."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "指标目标"
    sheet.append([title for _key, title in COLUMNS])
    for t in targets:
        sheet.append([KPI_BY_ID[t.kpi].name if t.kpi in KPI_BY_ID else t.kpi,
                      "全区" if t.scope == ALL_SCOPES else t.scope, t.valid_from, t.valid_to,
                      COMPARATOR_NAMES.get(t.comparator, t.comparator), t.value, t.source])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
