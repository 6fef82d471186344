"""API route: the cockpit's KPIs for a period and scope (same scope rules as /cockpit)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from web.api.base import bp
from web.context import actor, services
from web.params import day_arg
from workflows.reports import cockpit
from workflows.reports.kpis import Figure


@bp.get("/kpis")
def kpis() -> ResponseReturnValue:
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD[&place=CODE]``: every KPI with its target and status."""
    first, last = day_arg("from"), day_arg("to")
    place = (request.args.get("place") or "").strip() or None
    top = cockpit.overview(services(), actor(), first, last, place)
    return jsonify({"from": top.period.first.isoformat(), "to": top.period.last.isoformat(),
                    "place": top.where.place_code, "not_counted": top.not_counted,
                    "kpis": [_figure(f, top) for f in top.figures]})


def _figure(f: Figure, top: cockpit.Overview) -> dict:
    query = {"kpi": f.kpi.id, "from": top.period.first.isoformat(),
             "to": top.period.last.isoformat()}
    if top.where.place_code:
        query["place"] = top.where.place_code
    return {"id": f.kpi.id, "value": f.value, "numerator": f.numerator,
            "denominator": f.denominator, "unit": f.kpi.unit, "previous": f.previous,
            "target": f.target.as_dict() if f.target else None, "status": f.status,
            "cases": f.cases if f.kpi.counts != "warnings" else None,
            "cases_url": None if f.kpi.counts == "warnings" else
            f"/api/v1/cases?{urlencode(query)}"}
