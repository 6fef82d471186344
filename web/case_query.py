"""The case list's query string, shared by the /cases page and ``GET /api/v1/cases``.

``workflows.cases.listing.parse_query`` checks the common filters; ``kpi`` (the cockpit's
drill-down: exactly the cases behind one KPI figure) is turned into an extra condition here,
because the KPI definitions live in a package above ``workflows.cases``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement

from workflows.cases.listing import CaseQuery, parse_query
from workflows.core.errors import FieldCode, FieldError, InvalidInput


def case_query(args: Mapping[str, str], *, per_page: int) -> CaseQuery:
    """The list asked for by ``args``; InvalidInput names every bad parameter."""
    query = parse_query(args, per_page=per_page)
    kpi = (args.get("kpi") or "").strip()
    if kpi:
        query.restrict = kpi_cases(kpi, query)
    return query


def kpi_cases(kpi: str, query: CaseQuery) -> ColumnElement[bool]:
    """The condition selecting the cases behind ``kpi`` for the query's period and place.

    The cockpit (workflows/reports/kpi_cases.py) supplies it; until then no KPI is known."""
    raise InvalidInput({"kpi": FieldError(FieldCode.NOT_AN_OPTION)})
