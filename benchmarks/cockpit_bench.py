"""The cockpit's requests on a large database: p50 and p95 per request, printed, never asserted.

    JIEFEN_DATABASE_URL=postgresql+psycopg://… JIEFEN_INSTANCE_PATH=… \\
        python benchmarks/cockpit_bench.py [--repeats 20] [--year 2025] [--month 2025-11] [--parts]

Run it on a database that holds a district and many cases: ``jiefen demo`` (临江区), then
``jiefen bench generate --cases 1000000`` (bulk rows, see benchmarks/generate.py; it rebuilds
the rollups). It asks, in-process through Flask's test client (the server's whole work: every
query, the template, no network):

* the HTML page ``/cockpit`` as a district supervisor for a whole year, and as the leader of
  the township or street with the most cases for one month;
* ``GET /api/v1/kpis`` for the same two (a bearer token);
* the first page of the K-01 drill-down list (``/cases?kpi=K-01…``) for the same two.

Each request runs ``--repeats`` times after one warm-up; figures are wall-clock milliseconds,
printed with the load average before and after (the host is shared). ``--parts`` also times
the page's parts below the web layer (trends, ranking, live board, hotspots), once each.
The goals (p95 ≤ 300 ms for a district year, ≤ 100 ms for a township month) are figures to
compare, not test assertions. The two bench users (``bench_cockpit_d``, ``bench_cockpit_t``)
are created once, through the admin service, and kept.

``--fill-board`` first recomputes, in SQL, only what a version without them did not build: the
live-board and notice rollups (rollup_board, rollup_notice, from the cases) and the year rows
of the other rollups (sums of their month rows), leaving the rest and the stored facts alone —
for a shared database built by such a version (``jiefen cockpit rebuild`` recomputes
everything, in Python).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from web import create_app  # noqa: E402
from workflows.access import tokens  # noqa: E402
from workflows.access.policy import actor_for_user  # noqa: E402
from workflows.core.actors import SYSTEM, Actor  # noqa: E402
from workflows.models import Case, Department, Place, User  # noqa: E402
from workflows.people import admin  # noqa: E402
from workflows.reports import cockpit  # noqa: E402
from workflows.rollups import maintain  # noqa: E402
from workflows.runtime.bootstrap import Services  # noqa: E402

PASSWORD = "bench-password-1"  # noqa: S105 (bench accounts on a bench database)


def _units(services: Services) -> tuple[str, str, str]:
    """The district-level 综治中心 and the 综治中心 of the township or street with the most
    cases (codes), and that place's name."""
    with services.session_factory() as session:
        district = session.scalar(select(Department.code).where(
            Department.kind == "ZZ", Department.tier == "district").order_by(Department.id))
        towns = session.execute(select(Place.id, Place.name, Place.path).where(
            Place.level.in_(("street", "township")))).all()
        best = max(towns, key=lambda t: session.scalar(
            select(func.count()).select_from(Case).where(Case.place_path.startswith(t.path))))
        town = session.scalar(select(Department.code).where(
            Department.kind == "ZZ", Department.place_id == best.id))
    if district is None or town is None:
        raise SystemExit("no district or township 综治中心: run `jiefen demo` first")
    return district, town, best.name


def _user(services: Services, username: str, role: str, unit: str) -> str:
    with services.session_factory() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            return username
    admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                      roles=[role], department_code=unit, display_name="压测领导")
    return username


def _client(app, username: str):
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    response = client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                                 "csrf_token": csrf.group(1) if csrf else ""})
    if response.status_code != 302:
        raise SystemExit(f"cannot sign in as {username}: {response.status_code}")
    return client


def _time(run: Callable[[], int], repeats: int) -> tuple[float, float, float, set[int]]:
    statuses = {run()}                                # warm-up: caches, plans
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        statuses.add(run())
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, max(times), statuses


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _parts(services: Services, who: Actor, first: date, last: date) -> str:
    """Each part of the page below the web layer, timed once (ms)."""
    top = cockpit.overview(services, who, first, last)
    out = []
    with services.new_uow() as uow:
        s, scope, period = uow.session, top.where.scope, top.period
        for name, call in (("trends", lambda: cockpit.trends(s, period, scope)),
                           ("ranking", lambda: cockpit.ranking(s, period, scope)),
                           ("board", lambda: cockpit.board(s, who, scope)),
                           ("hotspots", lambda: cockpit.hotspots(s, period, scope))):
            start = time.perf_counter()
            call()
            out.append(f"{name} {(time.perf_counter() - start) * 1000:.0f}")
    return ", ".join(out)


AREA = ("CASE WHEN coalesce(btrim(c.place_path, '/'), '') = '' THEN '' ELSE '/' || "
        "array_to_string((string_to_array(btrim(c.place_path, '/'), '/'))[1:3], '/') || '/' END")
# the year rows of the rollups an older version built (day and month rows only): sums of months
YEARS = (("rollup_case", "area_path, unit_id, category",
          "received, closed, counted, resolved, rated, satisfied, second, days"),
         ("rollup_open", "area_path, unit_id, closed", "cases"),
         ("rollup_order", "area_path, unit_id",
          "dispatched, signed, hours, urgent_signed, urgent_hours, done, done_on_time, "
          "signed_on_time, returns"),
         ("rollup_place", "place_id, category, place_path", "received"))
FILL = (
    "DELETE FROM rollup_board",
    "DELETE FROM rollup_notice",
    f"""INSERT INTO rollup_board (area_path, unit_id, risk, light, level, cases)
    SELECT area, unit, risk, light, level, count(*) FROM (
      SELECT {AREA} AS area, coalesce(c.lead_department_id, 0) AS unit,
             coalesce(c.risk_level, '') AS risk,
             coalesce((SELECT max(CASE o.light WHEN 'yellow' THEN 1 WHEN 'orange' THEN 2
                                  WHEN 'red' THEN 3 ELSE 0 END)
                       FROM work_order o WHERE o.case_id = c.id), 0) AS light,
             coalesce((SELECT max(n.level) FROM supervision_notice n
                       WHERE n.case_id = c.id), -1) AS level
      FROM dispute_case c
      WHERE c.duplicate_of_id IS NULL AND c.opened_at IS NOT NULL AND c.status <> 'closed') b
    GROUP BY area, unit, risk, light, level""",
    f"""INSERT INTO rollup_notice (grain, day, area_path, unit_id, prev, cases)
    SELECT g.grain, CASE g.grain WHEN 'd' THEN x.day WHEN 'm' THEN date_trunc('month', x.day)::date
                    ELSE date_trunc('year', x.day)::date END,
           x.area, x.unit, coalesce(x.prev, DATE '1900-01-01'), count(*)
    FROM (SELECT {AREA} AS area, coalesce(n.department_id, 0) AS unit, d.day,
                 lag(d.day) OVER (PARTITION BY n.case_id, coalesce(n.department_id, 0)
                                  ORDER BY d.day) AS prev
          FROM supervision_notice n JOIN dispute_case c ON c.id = n.case_id
          CROSS JOIN LATERAL (SELECT (n.issued_at AT TIME ZONE :tz)::date AS day) d
          WHERE c.duplicate_of_id IS NULL AND c.opened_at IS NOT NULL) x
    CROSS JOIN (VALUES ('d'), ('m'), ('y')) AS g(grain)
    GROUP BY 1, 2, 3, 4, 5""",
    *[statement for table, keys, sums in YEARS for statement in (
        f"DELETE FROM {table} WHERE grain = 'y'",
        f"INSERT INTO {table} (grain, day, {keys}, {sums}) SELECT 'y', "
        f"date_trunc('year', day)::date, {keys}, "
        + ", ".join(f"sum({name})" for name in sums.split(", "))
        + f" FROM {table} WHERE grain = 'm' GROUP BY 2, {keys}")],
)


def _fill_board(services: Services) -> None:
    """rollup_board and rollup_notice from the cases in SQL (PostgreSQL; the same rows as
    ``maintain.rebuild`` — compared on a small database — in seconds rather than the Python
    rebuild's minutes at a million cases)."""
    started = time.perf_counter()
    with services.new_uow() as uow:
        for statement in FILL:
            uow.session.execute(text(statement), {"tz": services.settings.timezone})
        uow.commit()
    with services.session_factory() as session:
        board = session.scalar(text("SELECT count(*) FROM rollup_board"))
        notice = session.scalar(text("SELECT count(*) FROM rollup_notice"))
        for table in ("rollup_board", "rollup_notice", *(t for t, _k, _s in YEARS)):
            session.execute(text(f"ANALYZE {table}"))
        session.commit()
    print(f"filled rollup_board ({board:,} rows) and rollup_notice ({notice:,} rows) in "
          f"{time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--year", type=int, default=None, help="default: the current year")
    parser.add_argument("--month", default=None, help="YYYY-MM; default: the current month")
    parser.add_argument("--parts", action="store_true", help="also time the page's parts")
    parser.add_argument("--fill-board", action="store_true",
                        help="first recompute only rollup_board and rollup_notice")
    args = parser.parse_args()
    app = create_app()
    services: Services = app.extensions["jiefen_services"]
    if args.fill_board:
        _fill_board(services)
    today = services.clock.now().astimezone(services.calendar.tz).date()
    year = args.year or today.year
    month = date.fromisoformat(f"{args.month}-01") if args.month else today.replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    district, town, name = _units(services)
    users = (_user(services, "bench_cockpit_d", "supervisor", district),
             _user(services, "bench_cockpit_t", "leader", town))
    with services.session_factory() as session:
        cases = session.scalar(select(func.count()).select_from(Case))
        built = maintain.is_built(session)
    print(f"database: {services.settings.database.split('@')[-1]}; {cases:,} cases; rollups "
          f"{'built' if built else 'NOT built (direct queries)'}; township: {name}; "
          f"{args.repeats} runs each after one warm-up (ms); load average {_load()}")
    print(f"{'request':<48} {'p50':>8} {'p95':>8} {'max':>8}  status")
    runs = (("district, year", users[0], date(year, 1, 1), date(year, 12, 31)),
            ("township, month", users[1], month, month_end))
    for label, username, first, last in runs:
        client = _client(app, username)
        token = tokens.issue_token(services.new_uow(), SYSTEM, username=username,
                                   channel="portal").token
        bearer = {"Authorization": f"Bearer {token}"}
        period = {"from": first.isoformat(), "to": last.isoformat()}
        requests: dict[str, Callable[[], int]] = {
            "/cockpit (HTML)": lambda c=client, p=period: c.get(
                "/cockpit", query_string=p).status_code,
            "GET /api/v1/kpis": lambda c=client, p=period, h=bearer: c.get(
                "/api/v1/kpis", query_string=p, headers=h).status_code,
            "K-01 drill-down, first page": lambda c=client, p=period: c.get(
                "/cases", query_string={"kpi": "K-01", **p}).status_code,
        }
        for what, run in requests.items():
            p50, p95, top, statuses = _time(run, args.repeats)
            print(f"{label + ': ' + what:<48} {p50:8.1f} {p95:8.1f} {top:8.1f}  "
                  f"{sorted(statuses)}")
        if args.parts:
            with services.session_factory() as session:
                who = actor_for_user(session.scalars(
                    select(User).where(User.username == username)).one())
            print(f"  parts ({label}, once, ms): {_parts(services, who, first, last)}")
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
