"""What a long rollup queue costs a cockpit reader and the scheduler (docs/operations.md).

    JIEFEN_INSTANCE_PATH=... [DATABASE_URL=...] python benchmarks/rollup_queue.py [--heavy]

On a bench database (``jiefen demo`` then ``jiefen bench generate --cases 50000``): queues every
case, as a bulk job touching them all would, then times three bounded reader catch-ups
(``before_reading``, with their statements) and the scheduler's runs (``catch_up(rounds=20)``)
until the queue is empty. ``--heavy`` first empties the rollups and the stored facts, so every
case is applied as new (every table moved; the rollups are whole again at the end). Not a timed
test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, event, func, insert, literal, select  # noqa: E402

from workflows.core.settings import Settings  # noqa: E402
from workflows.models import Case  # noqa: E402
from workflows.models.rollups import RollupFacts, RollupPending  # noqa: E402
from workflows.rollups import catch_up as catching  # noqa: E402
from workflows.rollups.maintain import MODELS  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heavy", action="store_true", help="apply every case as new")
    args = parser.parse_args()
    services = bootstrap(Settings.from_env())
    with services.new_uow() as uow:
        s = uow.session
        s.execute(delete(RollupPending))
        if args.heavy:
            for model in (*MODELS.values(), RollupFacts):
                s.execute(delete(model))
        s.execute(insert(RollupPending).from_select(["case_id", "noticed"],
                                                    select(Case.id, literal(False))))
        uow.commit()
    with services.session_factory() as s:
        print("queued", s.scalar(select(func.count()).select_from(RollupPending)))
    sent: list[int] = []
    event.listen(services.db, "before_cursor_execute", lambda *_args: sent.append(1))
    for _ in range(3):
        sent.clear()
        start = time.perf_counter()
        left = catching.before_reading(services)
        print(f"reader: {(time.perf_counter() - start) * 1000:.0f} ms, {len(sent)} statements,"
              f" cases left: {left}")
    start = time.perf_counter()
    runs = 0
    while True:
        runs += 1
        begun = time.perf_counter()
        done = catching.catch_up(services, rounds=20)
        print(f"scheduler run {runs}: {done} cases in {time.perf_counter() - begun:.1f} s")
        if done < 20 * catching.BATCH:
            break
    print(f"the rest of the queue: {time.perf_counter() - start:.1f} s in {runs} runs")


if __name__ == "__main__":
    main()
