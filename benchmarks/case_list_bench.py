"""The case-list benchmark: p50 / p95 of the /cases page and of ``GET /api/v1/cases`` with
filters and free text, in-process (Flask's test client: the server's work, no network).

Run it on a database filled by ``jiefen bench generate`` (see docs/operations.md):

    jiefen bench list [--requests 200] [--unit ZZ --unit street]

It signs in as a supervisor of each ``--unit`` (a bench user created once, audited like any; by
default the district's centre ZZ, which sees every case, and ``street``: the first street or
township centre, which sees its own subtree) and asks each kind of request ``--requests`` times
with varying parameters (places within the unit's subtree). Figures are printed, never asserted.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from collections.abc import Callable

from sqlalchemy import select

from engine.crypto import field_aad
from workflows.access import tokens
from workflows.core.actors import SYSTEM
from workflows.models import Category, Department, Party, Place, User
from workflows.people import admin
from workflows.runtime.bootstrap import Services

WORDS = ("木工", "欠薪", "电梯", "噪声", "物业费", "赡养", "征收", "漏水", "工资", "外卖骑手")
PASSWORD = "bench-password-1"  # noqa: S105 (a bench account on a bench database)


def _user(services: Services, unit: str) -> str:
    username = f"bench_{unit.lower().replace('-', '_')}"[:32]
    with services.new_uow() as uow:
        if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
            return username
        if uow.session.scalar(select(Department.id).where(Department.code == unit)) is None:
            raise SystemExit(f"no unit {unit}")
    admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                      roles=["supervisor"], department_code=unit, display_name="压测督办员")
    return username


def street_unit(services: Services) -> str:
    """The code of the first street or township centre (kind ZZ at the street tier)."""
    with services.new_uow() as uow:
        code = uow.session.scalar(select(Department.code).where(
            Department.kind == "ZZ", Department.tier == "street").order_by(Department.code))
    if code is None:
        raise SystemExit("no street or township centre")
    return code


def _samples(services: Services, count: int, unit: str) -> tuple[list[str], list[str]]:
    """Place codes of streets, townships and below within the unit's subtree, and some
    applicants' ID numbers (decrypted here, on a bench database, to search by them)."""
    with services.new_uow() as uow:
        path = uow.session.scalar(select(Place.path).join(
            Department, Department.place_id == Place.id).where(Department.code == unit))
        places = list(uow.session.scalars(select(Place.code).where(
            Place.level.in_(("street", "township", "community", "village")),
            Place.path.startswith(path or "/", autoescape=True))))
        parties = uow.session.execute(select(Party.id, Party.id_number_enc).where(
            Party.id_number_enc.is_not(None)).limit(count)).all()
    ids = [services.cipher.decrypt(enc, aad=field_aad("party", "id_number_enc", pid))
           for pid, enc in parties]
    return places, ids


def _measure(call: Callable[[], int], times: int) -> tuple[list[float], set[int]]:
    spent, statuses = [], set()
    for _ in range(times):
        started = time.perf_counter()
        statuses.add(call())
        spent.append((time.perf_counter() - started) * 1000)
    return spent, statuses


def run(app, services: Services, *, requests: int = 200, unit: str = "ZZ", seed: int = 1,
        echo: Callable[[str], None] = print) -> dict[str, dict[str, float]]:
    """Ask each kind of list request ``requests`` times; print and return p50 / p95 in ms."""
    rng = random.Random(seed)
    username = _user(services, unit)
    token = tokens.issue_token(services.new_uow(), SYSTEM, username=username,
                               channel="hotline_12345").token
    headers = {"Authorization": f"Bearer {token}"}
    places, ids = _samples(services, requests, unit)
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                     "csrf_token": csrf.group(1) if csrf else ""})
    categories = [str(c) for c in Category]

    def web(params: Callable[[], dict]) -> Callable[[], int]:
        return lambda: client.get("/cases", query_string=params()).status_code

    def api(params: Callable[[], dict]) -> Callable[[], int]:
        return lambda: client.get("/api/v1/cases", query_string=params(),
                                  headers=headers).status_code

    def month() -> dict:
        start = rng.randint(1, 300)
        return {"from": _day(services, start + 30), "to": _day(services, start)}

    kinds = {
        "web /cases first page": web(lambda: {}),
        "web /cases page 200": web(lambda: {"page": "200"}),
        "web category+status": web(lambda: {"category": rng.choice(categories),
                                            "status": rng.choice(("closed", "in_handling"))}),
        "web q=word": web(lambda: {"q": rng.choice(WORDS)}),
        "web q=word+category": web(lambda: {"q": rng.choice(WORDS),
                                            "category": rng.choice(categories)}),
        "api q=word+place+month": api(lambda: {"q": rng.choice(WORDS),
                                               "place": rng.choice(places), **month()}),
        "api category+place": api(lambda: {"category": rng.choice(categories),
                                           "place": rng.choice(places)}),
        "api q=ID number": api(lambda: {"q": rng.choice(ids) if ids else "x"}),
        "api per_page=100": api(lambda: {"per_page": "100"}),
    }
    out = {}
    echo(f"case list, {requests} requests each, as a supervisor of {unit} (ms; load average "
         f"{' '.join(f'{n:.1f}' for n in os.getloadavg())})")
    for name, call in kinds.items():
        call()  # warm caches
        spent, statuses = _measure(call, requests)
        spent.sort()
        p95 = spent[max(0, int(len(spent) * 0.95) - 1)]
        out[name] = {"p50": statistics.median(spent), "p95": p95}
        echo(f"  {name:<26} p50 {out[name]['p50']:7.1f}  p95 {p95:7.1f}  status {sorted(statuses)}")
    echo(f"  (load average after: {' '.join(f'{n:.1f}' for n in os.getloadavg())})")
    return out


def _day(services: Services, days_ago: int) -> str:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    moment = services.clock.now() - timedelta(days=days_ago)
    return moment.astimezone(ZoneInfo(services.settings.timezone)).date().isoformat()
