"""Timer sweep cost with many waiting instances: it must read only the due ones (the ``due_at``
index), so its time does not grow with the waiting count.

    python benchmarks/sweep_bench.py [--waiting 100000] [--due 10] [--url postgresql+psycopg://...]

Inserts ``--waiting`` instances whose timers are weeks away and ``--due`` overdue ones, then times
(a) an idle sweep (nothing due) and the re-arm queries, and (b) a sweep that fires the due ones.
Without ``--url`` a temporary SQLite file is used; with a PostgreSQL URL the rows go into a
scratch schema that is dropped afterwards. Not a timed test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.clock import FrozenClock  # noqa: E402
from engine.crypto import Keyring  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.models import InstanceRow  # noqa: E402
from workflows.core.actors import SYSTEM  # noqa: E402
from workflows.core.schema import upgrade  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.processes.deploy import deploy_bundle  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402
from workflows.scheduler import (  # noqa: E402
    jobs,
    sla_sweep,  # noqa: E402
    timers,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def _database(url: str | None, folder: Path) -> tuple[str, str | None]:
    if not url:
        return f"sqlite:///{folder / 'sweep_bench.sqlite3'}", None
    schema = f"sweep_bench_{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


def _seed(services, waiting: int, due: int) -> None:
    files = {"simple.bpmn": (ROOT / "tests/fixtures/bpmn/simple.bpmn").read_bytes()}
    deploy_bundle(services.new_uow(), SYSTEM, files)
    with services.new_uow() as uow:
        row, _ = uow.start_instance("simple", data={"case_no": "bench"}, actor=SYSTEM)
        uow.commit()
    with services.session_factory() as session:
        model = session.get(InstanceRow, row.id)
        template = {c: getattr(model, c) for c in ("process_version_id", "process_id", "state",
                                                    "serializer_version", "library_version")}
    later = T0 + timedelta(days=30)
    with services.db.begin() as conn:
        for start in range(0, waiting, 10_000):
            batch = [{**template, "status": "waiting", "due_at": later, "timer_attempts": 0,
                      "max_depth": 0, "version_id": 1, "created_at": T0, "updated_at": T0}
                     for _ in range(min(10_000, waiting - start))]
            conn.execute(insert(InstanceRow), batch)
        conn.execute(insert(InstanceRow), [
            {**template, "status": "running", "due_at": T0 + timedelta(hours=2),
             "timer_attempts": 0, "max_depth": 0, "version_id": 1, "created_at": T0,
             "updated_at": T0} for _ in range(due)])
    with services.new_uow() as uow:  # the seed instance itself would fire too: park it
        uow.session.get(InstanceRow, row.id).status = "completed"
        uow.commit()
    if services.db.dialect.name == "postgresql":
        with services.db.begin() as conn:
            conn.execute(text("ANALYZE workflow_instance"))


def _timed(fn, repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def run(waiting: int, due: int, url: str | None, echo=print) -> dict:
    """Seed, measure, print; returns the figures."""
    folder = Path(tempfile.mkdtemp(prefix="sweep_bench_"))
    db_url, schema = _database(url, folder)
    upgrade(db_url)
    keyring = Keyring.generate(folder / "keys.json")
    settings = Settings.from_env(instance_path=folder, database_url=db_url, testing=True)
    clock = FrozenClock(T0)
    services = bootstrap(settings, clock=clock, keyring=keyring)
    try:
        started = time.perf_counter()
        _seed(services, waiting, due)
        echo(f"seeded {waiting:,} waiting + {due} due instances on "
             f"{services.db.dialect.name} in {time.perf_counter() - started:.1f} s")
        clock.set(T0 + timedelta(hours=1))
        statements: list[str] = []
        event.listen(services.db, "before_cursor_execute", lambda *a: statements.append(a[2]))
        idle_med, idle_max = _timed(lambda: timers.sweep(services), 20)
        per_sweep = len(statements) // 20
        rearm_med, _ = _timed(lambda: jobs.next_run(services, clock.now()), 20)
        sla_med, _ = _timed(lambda: sla_sweep.sweep_sla(services), 20)
        echo(f"idle sweep (nothing due): median {idle_med:.2f} ms, max {idle_max:.2f} ms, "
             f"{per_sweep} statement(s) per sweep")
        echo(f"re-arm queries (next due timer + next SLA check): median {rearm_med:.2f} ms")
        echo(f"idle SLA sweep: median {sla_med:.2f} ms")
        echo("plan: " + _plan(services))
        clock.set(T0 + timedelta(hours=3))
        started = time.perf_counter()
        result = timers.sweep(services)
        firing = (time.perf_counter() - started) * 1000
        echo(f"sweep firing {result.fired} due instances: {firing:.1f} ms "
             f"({firing / max(result.fired, 1):.1f} ms per instance)")
        return {"idle_ms": idle_med, "statements": per_sweep, "fired": result.fired,
                "firing_ms": firing}
    finally:
        services.db.dispose()
        if schema:
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


def _plan(services) -> str:
    query = select(InstanceRow.id).where(
        InstanceRow.due_at.is_not(None), InstanceRow.due_at < T0 + timedelta(hours=1),
        InstanceRow.status.in_(("running", "waiting"))).order_by(InstanceRow.due_at).limit(200)
    compiled = query.compile(services.db, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if services.db.dialect.name == "sqlite" else "EXPLAIN "
    with services.db.connect() as conn:
        rows = conn.execute(text(prefix + str(compiled))).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10)
    parser.add_argument("--url", default=None, help="PostgreSQL URL (default: temporary SQLite)")
    args = parser.parse_args()
    run(args.waiting, args.due, args.url)


if __name__ == "__main__":
    main()
