"""How late a running scheduler fires timers, as a ratio of JIEFEN_SWEEP_MAX_SLEEP.

    python benchmarks/timer_lateness.py [--timers 5] [--url postgresql+psycopg://...]

Starts the real BackgroundScheduler on the wall clock, starts ``--timers`` cases of the PT3S
``quick_timer`` fixture process half a second apart while it runs, waits until every timer has
fired and prints the recorded lateness (``timer_fired.lateness_s``) and its ratio to the max sleep
(a timer armed by another process fires within max sleep + the sweep's own time; the scheduler
re-arms itself at an earlier due time, so a ratio well below 1 is expected on an idle machine).
Without ``--url`` a temporary SQLite file is used; with a PostgreSQL URL a scratch schema that is
dropped afterwards. Not a timed test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.sweep_bench import _database  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.crypto import Keyring  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.models import AuditEvent  # noqa: E402
from workflows.core.actors import SYSTEM  # noqa: E402
from workflows.core.schema import upgrade  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.processes.deploy import deploy_bundle  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402
from workflows.scheduler import jobs  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "bpmn" / "quick_timer.bpmn"


def _fired(services) -> list[float]:
    with services.session_factory() as session:
        payloads = session.scalars(select(AuditEvent.payload)
                                   .where(AuditEvent.action == "timer_fired"))
        return [json.loads(p)["lateness_s"] for p in payloads]


def run(timers: int, url: str | None, echo=print) -> dict:
    """Run the scheduler until every timer fired; print and return the lateness figures."""
    folder = Path(tempfile.mkdtemp(prefix="timer_lateness_"))
    db_url, schema = _database(url, folder)
    upgrade(db_url)
    settings = Settings.from_env(instance_path=folder, database_url=db_url, testing=True)
    services = bootstrap(settings, clock=SystemClock(),
                         keyring=Keyring.generate(folder / "keys.json"))
    scheduler = jobs.build_scheduler(services, blocking=False)
    try:
        deploy_bundle(services.new_uow(), SYSTEM, {FIXTURE.name: FIXTURE.read_bytes()})
        scheduler.start()
        for n in range(timers):
            with services.new_uow() as uow:
                uow.start_instance("quick_timer", data={"case_no": f"bench-{n}"}, actor=SYSTEM)
                uow.commit()
            time.sleep(0.5)
        deadline = time.monotonic() + 60
        while len(_fired(services)) < timers and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
        services.db.dispose()
    late = sorted(_fired(services))
    max_sleep = settings.sweep_max_sleep
    median, worst = statistics.median(late), late[-1]
    echo(f"{len(late)} of {timers} PT3S timers fired on {services.db.dialect.name}: lateness "
         f"median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms; max / sweep max sleep "
         f"({max_sleep:g} s) = {worst / max_sleep:.2f}")
    if schema:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    return {"fired": len(late), "median_s": median, "max_s": worst, "ratio": worst / max_sleep}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=5)
    parser.add_argument("--url", default=None, help="PostgreSQL URL (default: temporary SQLite)")
    args = parser.parse_args()
    run(args.timers, args.url)


if __name__ == "__main__":
    main()
