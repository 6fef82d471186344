"""Report titles, column labels and fixed cell words in the page's language.

Reports are stored with the Chinese texts of workflows/reports/data.py (the source language; the
CSV/XLSX downloads keep them). Pages translate them here, by text (stored data, not codes).
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from web.labels import REPORT_KIND, TABLES, label
from workflows.reports.charts import shown

CHINESE = "zh_Hans_CN"   # the source language: the downloads' words
SEPARATOR = "、"  # how workflows/reports/data.py joins several reasons in one cell
TEXTS = {
    # column labels (WEEKLY_COLUMNS, MONTHLY_COLUMNS, QUARTERLY_COLUMNS)
    "案件编号": _l("案件编号"), "类型": _l("类型"), "层级": _l("层级"), "风险等级": _l("风险等级"),
    "状态": _l("状态"), "牵头部门": _l("牵头部门"), "受理日期": _l("受理日期"),
    "已办天数": _l("已办天数"), "是否超期": _l("是否超期"), "时效灯": _l("时效灯"),
    "督办级别": _l("督办级别"), "列入原因": _l("列入原因"), "部门": _l("部门"),
    "牵头/协办": _l("牵头/协办"), "超时次数": _l("超时次数"), "最高督办级别": _l("最高督办级别"),
    "派单日期": _l("派单日期"), "办理期限": _l("办理期限"), "办结日期": _l("办结日期"),
    "维度": _l("维度"), "名称": _l("名称"), "办结数": _l("办结数"), "化解率": _l("化解率"),
    "满意度": _l("满意度"), "二次投诉率": _l("二次投诉率"), "按时签收率": _l("按时签收率"),
    "按期办结率": _l("按期办结率"), "平均响应（小时）": _l("平均响应（小时）"),
    "平均办结周期（天）": _l("平均办结周期（天）"),
    # KPI names (KPI_ZH)
    "矛盾纠纷化解率": _l("矛盾纠纷化解率"), "群众满意度": _l("群众满意度"),
    "平均响应时间（小时）": _l("平均响应时间（小时）"),
    # fixed cell words
    "是": _l("是"), "否": _l("否"), "牵头": _l("牵头"), "协办": _l("协办"), "全区": _l("全区"),
    "合计": _l("合计"), "未分类": _l("未分类"), "超过7天未办结": _l("超过7天未办结"),
    "超期": _l("超期"),
    # chart titles and series (workflows/reports/charts.py)
    "列入清单的案件（按牵头部门）": _l("列入清单的案件（按牵头部门）"), "案件数": _l("案件数"),
    "超期与督办工单（按部门）": _l("超期与督办工单（按部门）"), "督办": _l("督办"),
    "升级督办": _l("升级督办"), "各部门指标": _l("各部门指标"), "未分派": _l("未分派"),
}


def report_text(value: Any) -> Any:
    """A stored report text (label, KPI name, fixed word or a list of reasons) translated."""
    if not isinstance(value, str) or not value:
        return value
    known = TEXTS.get(value)
    if known is not None:
        return str(known)
    parts = value.split(SEPARATOR)
    if len(parts) > 1 and all(part in TEXTS for part in parts):
        return gettext("、").join(str(TEXTS[part]) for part in parts)
    return value


# the code lists of the columns that hold codes (the case status of a weekly row, the order
# status of a monthly row: a monthly row has a lead/co role)
CODED = {"category": "category", "tier": "tier", "risk_level": "risk", "light": "risk"}


def _coded(key: str, value: Any, row: dict) -> tuple[str, str] | None:
    """(code list, code) of a stored cell that holds a code; None for a number or a text."""
    kind = CODED.get(key)
    if key == "status":
        kind = "wo_status" if "role" in row else "status"
    elif key == "name" and row.get("scope") == "类型":
        kind = "category"
    elif key == "level" and isinstance(value, int) and not isinstance(value, bool):
        return "escalation", f"L{value}"      # a supervision notice's rung, as the cockpit's
    if kind is not None and str(value) in TABLES[kind]:
        return kind, str(value)
    return None


def report_cell(key: str, value: Any, row: dict | None = None) -> Any:
    """A stored cell as the page shows it: rates as percentages, codes and texts in words, None
    empty."""
    if value is None or value == "":
        return ""
    coded = _coded(key, value, row or {})
    if coded is not None:
        return label(*coded)
    return report_text(shown(key, value))


def download_words(key: str, value: Any, row: dict) -> Any:
    """A coded cell of a CSV/XLSX download in Chinese words (downloads stay Chinese whatever the
    page's language, like their stored texts); other cells as stored (rates stay numbers)."""
    coded = None if value is None or value == "" else _coded(key, value, row)
    if coded is None:
        return value
    with force_locale(CHINESE):
        return label(*coded)


def report_title(report: Any) -> str:
    """The title of a stored report (kind and period) in the page's language."""
    kind = REPORT_KIND.get(report.kind)
    if kind is None:
        return report.title
    return gettext("%(kind)s（%(start)s 至 %(end)s）", kind=kind,
                   start=report.period_start.isoformat(), end=report.period_end.isoformat())
