"""The cockpit's ranking of units (部门/街镇考核排名) as an XLSX, as the page shows it."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

COLUMNS = (("name", "单位"), ("dispatched", "派单数"), ("sign_rate", "按时签收率（%）"),
           ("done", "办结工单数"), ("done_rate", "按期办结率（%）"), ("rated", "评价数"),
           ("satisfaction", "满意度（%）"), ("returns", "退单数"), ("notices", "收到督办（件）"))


def workbook(rows: list[dict[str, Any]], top: Any) -> bytes:
    """One sheet: the period and scope in the first row, then the table."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "考核排名"
    scope = top.where.unit_name or top.where.place_name or "全区"
    title = f"{scope} {top.period.first.isoformat()} 至 {top.period.last.isoformat()}"
    if top.not_counted:   # as the page says it: queued changes the figures leave out
        title += f"（另有 {top.not_counted} 件案件的最新变化尚未计入）"
    sheet.append([title])
    sheet.append([title for _key, title in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.get(key) for key, _title in COLUMNS])
    sheet.column_dimensions["A"].width = 30
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
