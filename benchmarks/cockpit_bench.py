"""The cockpit's requests on a large database: p50 and p95 per request, printed, never asserted.

    JIEFEN_DATABASE_URL=postgresql+psycopg://… JIEFEN_INSTANCE_PATH=… \\
        python benchmarks/cockpit_bench.py [--repeats 20] [--year 2025] [--month 2025-11]

Run it on a database that holds a district and many cases: ``jiefen demo`` (临江区), then
``jiefen bench generate --cases 1000000`` (bulk rows, see benchmarks/generate.py). It measures
what one page view of /cockpit costs below the web layer (``workflows.reports.cockpit.page``:
every KPI for the period and the previous one, trends, ranking, live board, hotspots), the KPI
API's work alone (``overview``), and the first page of a tile's drill-down list, for:

* a district supervisor and a whole year;
* a township (乡镇/街道) leader and one month.

Each request runs ``--repeats`` times after one warm-up; the figures are wall-clock times in
milliseconds. The goals (issue text: p95 ≤ 300 ms for a district year, ≤ 100 ms for a township
month) are figures to compare, not test assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflows.cases import listing  # noqa: E402
from workflows.core.actors import Actor  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.models import Case, Department, Place  # noqa: E402
from workflows.reports import cockpit  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402


def _actor(role: str, unit: int | None, path: str | None) -> Actor:
    return Actor(type="user", id="0", username="bench", roles=frozenset({role}),
                 department_id=unit, unit_path=path)


def _scopes(services) -> tuple[Actor, Actor, str]:
    """A district supervisor (the district-level 综治中心) and the leader of the township or
    street with the most cases (its 综治中心)."""
    with services.session_factory() as session:
        district_zz = session.scalar(select(Department.id).where(
            Department.kind == "ZZ", Department.tier == "district").order_by(Department.id))
        towns = session.execute(
            select(Place.id, Place.name, Place.path).where(Place.level.in_(("street",
                                                                           "township")))).all()
        best = max(towns, key=lambda t: session.scalar(select(func.count()).select_from(Case)
                                                       .where(Case.place_path.startswith(t.path))))
        town_zz = session.scalar(select(Department.id).where(
            Department.kind == "ZZ", Department.place_id == best.id))
    return (_actor("supervisor", district_zz, None),
            _actor("leader", town_zz, best.path), best.name)


def _time(run: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    run()                                             # warm-up: caches, plans
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--year", type=int, default=None, help="default: the current year")
    parser.add_argument("--month", default=None, help="YYYY-MM; default: the current month")
    args = parser.parse_args()
    services = bootstrap(Settings.from_env())
    today = services.clock.now().astimezone(services.calendar.tz).date()
    year = args.year or today.year
    month = date.fromisoformat(f"{args.month}-01") if args.month else today.replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    district, township, name = _scopes(services)
    with services.session_factory() as session:
        cases = session.scalar(select(func.count()).select_from(Case))
    print(f"database: {services.settings.database.split('@')[-1]}; {cases:,} cases; "
          f"township: {name}; {args.repeats} runs each (ms)")
    print(f"{'request':<44} {'p50':>8} {'p95':>8} {'max':>8}")
    runs = (("district, year", district, date(year, 1, 1), date(year, 12, 31)),
            ("township, month", township, month, month_end))
    for label, who, first, last in runs:
        def page(who=who, first=first, last=last) -> object:
            return cockpit.page(services, who, first, last)

        def kpis(who=who, first=first, last=last) -> object:
            return cockpit.overview(services, who, first, last)

        def drill(who=who, first=first, last=last) -> object:
            query = listing.CaseQuery(per_page=25)
            query.scope = cockpit.drill_scope(services, who, cockpit.Drill("K-01", first, last))
            return listing.list_page(services.new_uow(), who, query)

        for what, run in (("/cockpit page", page), ("KPIs (GET /api/v1/kpis)", kpis),
                          ("K-01 drill-down, first page", drill)):
            p50, p95, top = _time(run, args.repeats)
            print(f"{label + ': ' + what:<44} {p50:8.1f} {p95:8.1f} {top:8.1f}")


if __name__ == "__main__":
    main()
