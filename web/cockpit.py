"""Blueprint ``cockpit``: the leaders' cockpit (驾驶舱), its ranking download, and the
drill-down arguments the case list reads (``kpi=`` …)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from flask import Blueprint, Response, g, render_template, request, url_for
from flask.typing import ResponseReturnValue

from web.context import actor, services
from web.params import day_arg, whole_number
from workflows.channels import catalogue
from workflows.deadlines.escalation import KIND_OF_LEVEL
from workflows.reports import cockpit, legal_paths, ranking_xlsx

bp = Blueprint("cockpit", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIODS = ("week", "month", "quarter", "year")
_SAFE = "!$'()*,/:;?@"      # what werkzeug's url_for leaves unquoted in a query value


def today() -> date:
    return services().clock.now().astimezone(services().calendar.tz).date()


def period_of(kind: str, day: date) -> tuple[date, date]:
    """This week, month, quarter or year around ``day`` (up to its end)."""
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    if kind == "quarter":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    elif kind == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        first = day.replace(day=1)
    months = 3 if kind == "quarter" else 1
    following = date(first.year + (first.month + months - 1) // 12,
                     (first.month + months - 1) % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _text(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    return value[:64] or None


def chosen_period() -> tuple[date | None, date | None, str | None]:
    """The period from ``from``/``to``, else ``period=week|month|quarter|year``, else this month."""
    kind = request.args.get("period")
    if request.args.get("from") or request.args.get("to"):
        return day_arg("from"), day_arg("to"), None
    kind = kind if kind in PERIODS else "month"
    first, last = period_of(kind, today())
    return first, last, kind


@bp.get("/cockpit")
def index() -> ResponseReturnValue:
    """KPI tiles, trends, ranking of units, live board, hotspots for the period and scope."""
    first, last, kind = chosen_period()
    place, unit = _text("place"), _text("unit")
    data = cockpit.page(services(), actor(), first, last, place, unit)
    sort = request.args.get("sort", "sign_rate")
    descending = request.args.get("dir", "desc") != "asc"
    rows = cockpit.sort_ranking(data.ranking, sort, descending)
    today_is = today()
    periods = {k: period_of(k, today_is) for k in PERIODS}
    where = data.overview.where
    links = {key: [drill_url(key, row, where) for row in data.trends["rows"]]
             for key in ("received", "closed", "overdue")}
    with services().session_factory() as session:   # K-12: the interface catalogue, now
        sharing = catalogue.data_sharing_rate(session)
        paths = legal_paths.cases_per_path(session, data.overview.period, where.scope)
    return render_template("cockpit/index.html", data=data, top=data.overview, sharing=sharing,
                           legal_paths=paths,
                           where=where, period=data.overview.period, kind=kind,
                           periods=periods, ranking=rows, sort=sort, descending=descending,
                           drill=drill_url, trend_links=links, merge=_merge,
                           ladder=KIND_OF_LEVEL)


@bp.get("/cockpit/ranking.xlsx")
def ranking_download() -> ResponseReturnValue:
    """The ranking table as an XLSX (the same rows and order as on the page)."""
    first, last, _kind = chosen_period()
    top = cockpit.ranking_page(services(), actor(), first, last, _text("place"), _text("unit"))
    rows = cockpit.sort_ranking(top[1], request.args.get("sort", "sign_rate"),
                                request.args.get("dir", "desc") != "asc")
    body = ranking_xlsx.workbook(rows, top[0])
    name = f"ranking-{top[0].period.first.isoformat()}-{top[0].period.last.isoformat()}.xlsx"
    return Response(body, mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def drill_url(kpi: str, period: Any, where: Any, **extra: Any) -> str:
    """The case list behind a figure of the page (``period``: anything with first and last;
    ``where``: the scope, or a mapping of place_code and unit_code)."""
    first, last = _get(period, "first"), _get(period, "last")
    args = {"kpi": kpi, "from": first.isoformat(), "to": last.isoformat()}
    if _get(where, "place_code"):
        args["place"] = _get(where, "place_code")
    if _get(where, "unit_code"):
        args["unit"] = _get(where, "unit_code")
    args.update({k: v for k, v in extra.items() if v is not None})
    # a page holds a thousand of these links: the list's path once per request, then plain
    # quoting (url_for per link cost more than every query of the page)
    base = g.get("jiefen_case_list_url")
    if base is None:
        base = g.jiefen_case_list_url = url_for("cases.case_list")
    return base + "?" + "&".join([f"{k}={_quoted(str(v))}" for k, v in args.items()])


@lru_cache(maxsize=4096)
def _quoted(value: str) -> str:
    return quote_plus(value, safe=_SAFE)


def _merge(*mappings: dict) -> dict:
    out: dict = {}
    for mapping in mappings:
        out.update(mapping)
    return out


def _get(thing: Any, name: str) -> Any:
    return thing.get(name) if isinstance(thing, dict) else getattr(thing, name)


def drill_of(args: Mapping[str, str]) -> cockpit.Drill:
    """The drill-down asked for by a query string (``kpi`` and its period, place, unit and
    board or hotspot cell); the cockpit checks every value."""
    def text(name: str) -> str | None:
        value = str(args.get(name) or "").strip()
        return value[:64] or None

    return cockpit.Drill(kpi=(text("kpi") or "")[:16], first=_day(text("from")),
                         last=_day(text("to")), place=text("place"), unit=text("unit"),
                         category=text("category"), light=text("light"), risk=text("risk"),
                         level=whole_number(args.get("level"), None, maximum=3))


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None
