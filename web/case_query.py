"""The case list's query string, shared by the /cases page and ``GET /api/v1/cases``.

``workflows.cases.listing.parse_query`` checks the common filters. ``kpi`` (the cockpit's
drill-down) lists exactly the cases behind one figure: the cockpit (workflows/reports/cockpit.py)
checks the viewer's cockpit scope and supplies the condition, from the same definitions as the
figure (workflows/reports/kpi_cases.py). ``from`` and ``to`` are then the figure's period, not
registration dates.
"""

from __future__ import annotations

from collections.abc import Mapping

from web.cockpit import drill_of
from web.context import actor, services
from workflows.cases.listing import CaseQuery, parse_query
from workflows.core.dates import filter_bounds
from workflows.reports import cockpit

# the drill-down's own parameters (kept on page links)
DRILL_PARAMS = ("kpi", "from", "to", "unit", "light", "risk", "level")


def case_query(args: Mapping[str, str], *, per_page: int) -> CaseQuery:
    """The list asked for by ``args``; InvalidInput names every bad parameter."""
    bounds = filter_bounds(services().clock.now(), services().settings)
    kpi = (args.get("kpi") or "").strip()
    if not kpi:
        return parse_query(args, per_page=per_page, bounds=bounds)
    drill = drill_of(args)
    query = parse_query({k: v for k, v in args.items() if k not in DRILL_PARAMS},
                        per_page=per_page, bounds=bounds)
    query.scope = cockpit.drill_scope(services(), actor(), drill)
    query.extra_args = {k: str(args[k]) for k in DRILL_PARAMS if args.get(k)}
    return query
