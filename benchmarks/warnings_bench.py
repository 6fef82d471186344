"""The hourly warning rules over a big district: how long one run of ``evaluate`` takes.

    python benchmarks/warnings_bench.py [--cases 200000] [--url postgresql+psycopg://...]

Inserts (in bulk, not through the engine) a district of 10 streets x 10 communities x 10 grids x
10 buildings, ``--cases`` cases spread over the last 120 days at random buildings and categories,
each with an applicant party (a pool of people, so some repeat) and every tenth with an
organisation respondent; a few big cases. Then times a first run of the rules (which raises the
warnings) and a second run (which finds them raised: idempotent) and prints how many each rule
raised. Without ``--url`` a temporary SQLite file is used; with a PostgreSQL URL the rows go into
a scratch schema dropped afterwards. Not a timed test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.clock import FrozenClock  # noqa: E402
from engine.crypto import Keyring  # noqa: E402
from engine.db import make_engine  # noqa: E402
from workflows.core.schema import upgrade  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.early_warning.evaluate import evaluate  # noqa: E402
from workflows.models import Case, CaseParty, EarlyWarning, Party, Place  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402

NOW = datetime(2025, 6, 11, 2, 0, tzinfo=UTC)      # a Wednesday
CATEGORIES = ("neighbour", "property", "noise", "labour", "family", "public_order")


def _database(url: str | None, folder: Path) -> tuple[str, str | None]:
    if not url:
        return f"sqlite:///{folder / 'warnings_bench.sqlite3'}", None
    schema = f"warnings_bench_{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


def _places(services) -> list[tuple[int, str]]:
    """The tree, inserted in bulk with explicit ids; the buildings' (id, path)."""
    rows: list[dict] = []
    buildings = []

    def add(code: str, level: str, parent: dict | None) -> dict:
        row = {"id": len(rows) + 1, "code": code, "name": code, "level": level,
               "parent_id": parent["id"] if parent else None, "active": True}
        row["path"] = f"{parent['path'] if parent else '/'}{row['id']}/"
        rows.append(row)
        return row

    district = add("D", "district", None)
    for s in range(10):
        street = add(f"S{s}", "street", district)
        for c in range(10):
            community = add(f"S{s}C{c}", "community", street)
            for g in range(10):
                grid = add(f"S{s}C{c}G{g}", "grid", community)
                for b in range(10):
                    building = add(f"S{s}C{c}G{g}B{b}", "building", grid)
                    buildings.append((building["id"], building["path"]))
    with services.db.begin() as conn:
        conn.execute(insert(Place), rows)
    return buildings


def _seed(services, count: int) -> None:
    rng = random.Random(7)
    buildings = _places(services)
    people = [uuid.uuid4().hex * 2 for _ in range(max(count * 2, 1))]   # a few repeat
    orgs = [f"9135{n:014d}" for n in range(max(count // 50, 1))]
    with services.db.begin() as conn:
        for start in range(0, count, 10_000):
            size = min(10_000, count - start)
            cases, parties, links = [], [], []
            for n in range(start, start + size):
                place_id, path = rng.choice(buildings)
                opened = NOW - timedelta(minutes=rng.randrange(120 * 24 * 60))
                cases.append({"id": n + 1, "case_no": f"JF-B-{n:08d}", "channel": "counter",
                              "category": rng.choice(CATEGORIES), "urgency": "general",
                              "people_count": 30 if n % 5000 == 0 else 1, "risk_level": "blue",
                              "summary": "", "status": "registered", "second_complaint": False,
                              "reopened_count": 0, "opened_at": opened, "place_id": place_id,
                              "place_path": path, "version_id": 1})
                party = str(uuid.uuid4())
                parties.append({"id": party, "kind": "person", "name_enc": "x", "masked": {},
                                "contact_preference": "phone", "vulnerable": [],
                                "id_number_bidx": rng.choice(people), "credit_code": None,
                                "created_at": NOW, "updated_at": NOW})
                links.append({"case_id": n + 1, "party_id": party, "role": "applicant"})
                if n % 10 == 0:
                    org = str(uuid.uuid4())
                    parties.append({"id": org, "kind": "organisation", "name_enc": "x",
                                    "masked": {}, "contact_preference": "none", "vulnerable": [],
                                    "credit_code": rng.choice(orgs), "id_number_bidx": None,
                                    "created_at": NOW, "updated_at": NOW})
                    links.append({"case_id": n + 1, "party_id": org, "role": "respondent"})
            conn.execute(insert(Case), cases)
            conn.execute(insert(Party), parties)
            conn.execute(insert(CaseParty), links)
    if services.db.dialect.name == "postgresql":
        with services.db.begin() as conn:
            for table in ("dispute_case", "place"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT MAX(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))


def run(count: int, url: str | None, echo=print) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="warnings_bench_"))
    db_url, schema = _database(url, folder)
    upgrade(db_url)
    keyring = Keyring.generate(folder / "keys.json")
    settings = Settings.from_env(instance_path=folder, database_url=db_url, testing=True)
    services = bootstrap(settings, clock=FrozenClock(NOW), keyring=keyring)
    try:
        started = time.perf_counter()
        _seed(services, count)
        echo(f"seeded {count:,} cases at 10,000 buildings on {services.db.dialect.name} "
             f"in {time.perf_counter() - started:.1f} s")
        figures = {}
        for label in ("first run", "second run"):
            started = time.perf_counter()
            raised = evaluate(services, NOW)
            seconds = time.perf_counter() - started
            figures[label] = seconds
            echo(f"{label}: {seconds:.2f} s, raised {raised}")
        with services.session_factory() as session:
            total = session.scalar(select(func.count()).select_from(EarlyWarning))
        echo(f"warnings stored: {total}")
        return figures
    finally:
        services.db.dispose()
        if schema:
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    run(args.cases, args.url)


if __name__ == "__main__":
    main()
