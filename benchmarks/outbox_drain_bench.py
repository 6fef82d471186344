"""Outbox drain throughput to a local sink (the file channel): messages per second.

    python benchmarks/outbox_drain_bench.py [--messages 20000] [--recipients 2000]
                                            [--batch 500] [--url postgresql+psycopg://...]

Queues ``--messages`` notices for ``--recipients`` recipients in bulk, then drains them with
``workflows.notify.delivery.drain`` (no time budget) and prints wall and CPU rates. Without
``--url`` a temporary SQLite file is used; with a PostgreSQL URL the rows go into a scratch
schema that is dropped afterwards. Not a timed test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import scratch_database  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.crypto import Keyring  # noqa: E402
from engine.models import OutboxMessage  # noqa: E402
from workflows.core.schema import upgrade  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.notify import delivery  # noqa: E402
from workflows.notify.channels import FileChannel  # noqa: E402
from workflows.runtime.bootstrap import bootstrap  # noqa: E402

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="outbox_bench_"))
    with scratch_database(args.url, folder, "outbox_bench") as url:
        _run(url, folder, args)


def _run(url: str, folder: Path, args: argparse.Namespace) -> None:
    upgrade(url)
    settings = Settings.from_env(instance_path=folder, database_url=url, testing=True)
    services = bootstrap(settings, clock=FrozenClock(T0),
                         keyring=Keyring.generate(folder / "keys.json"))
    services.channels["file"] = FileChannel(folder / "sink.jsonl")
    try:
        with services.db.begin() as conn:
            for start in range(0, args.messages, 10_000):
                conn.execute(insert(OutboxMessage), [
                    {"channel": "file", "recipient_type": "user",
                     "recipient_id": str(n % args.recipients), "template": "receipt",
                     "params": {"case_no": f"JF-2026-{n:06d}"}, "dedupe_key": f"bench:{n}",
                     "status": "pending", "attempts": 0, "next_attempt_at": T0, "created_at": T0}
                    for n in range(start, min(start + 10_000, args.messages))])
        print(f"queued {args.messages:,} messages for {args.recipients:,} recipients "
              f"({services.db.dialect.name}); load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores")
        began, cpu = time.perf_counter(), _cpu()
        report = delivery.drain(services, budget=3600, batch=args.batch)
        took, used = time.perf_counter() - began, _cpu() - cpu
        lines = sum(1 for _ in (folder / "sink.jsonl").open(encoding="utf-8"))
        print(f"drained {report.sent:,} (sink holds {lines:,} lines) in {took:.2f} s: "
              f"{report.sent / took:,.0f} messages/s wall, "
              f"{report.sent / max(used, 1e-9):,.0f} messages per CPU s")
    finally:
        services.db.dispose()

if __name__ == "__main__":
    main()
