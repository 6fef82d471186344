"""Task and process data in words for the audit pages: each field under the name its forms give
it, each value by the rules the case-file report follows too (workflows/replay/values.py) — codes
through the label tables, unit codes by the units' names, 是/否 for flags (also the forms'
'true'/'false'), the mediator and the room by name; internal ids (party UUIDs) are counted,
never shown — in the page's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from web.labels import TABLES, period
from web.time_display import localtime
from workflows.replay.values import ValueWords


class PageValues(ValueWords):
    """The rules of replay/values.py, in the page's words (web/labels.py's tables)."""

    separator = "；"

    def flag(self, value: bool) -> str:
        return _("是") if value else _("否")

    def code(self, kind: str, text: str) -> str | None:
        found = TABLES.get(kind, {}).get(text)
        return None if found is None else str(found)

    def ids(self, count: int) -> str:
        return _("%(n)s 项（内部编号）", n=count)

    def one_id(self) -> str:
        return _("（内部编号）")

    def period(self, text: str) -> str:
        return period(text)

    def moment(self, text: str) -> str:
        return localtime(text.replace("Z", "+00:00"))


def value_text(key: str, value: Any, units: dict[str, str],
               options: dict[str, dict[str, str]] | None = None) -> str:
    """One data value as a person reads it: a form option's name, a label, a unit's name."""
    return PageValues(options=options, units=units).value(key, value)


def data_rows(data: dict[str, Any], field_names: dict[str, str], units: dict[str, str],
              options: dict[str, dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The rows of a data panel, sorted by what a person reads (the field's name)."""
    words = PageValues(labels=field_names, options=options, units=units)
    rows = [{"key": key, "label": field_names.get(key) or key,
             "text": words.value(key, value)} for key, value in data.items()]
    return sorted(rows, key=lambda row: row["label"])
