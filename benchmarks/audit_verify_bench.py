"""Audit verification throughput: a full run with one and with several processes, and an
incremental run after a day's worth of appended events.

    python benchmarks/audit_verify_bench.py [--chains 20000] [--events 20] [--workers 2]
                                            [--appended 2000] [--url postgresql+psycopg://...]

Fills an empty database (a temporary SQLite file without ``--url``; with a PostgreSQL URL, that
database's tables are created by the migrations and must be empty) with ``--chains`` chains of
``--events`` genuinely chained and HMAC'd events, then prints events per second for each run,
and for the incremental run the statements it sent (through SQLAlchemy, plus the event streams
the verifier runs on the driver's cursor).
Not a timed test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.audit_chain import GENESIS, canonical_json, chain_hash, event_body  # noqa: E402
from engine.crypto import KeyPurpose, Keyring  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.models import AuditChainHead, AuditEvent  # noqa: E402
from workflows.audit import bulk_verify  # noqa: E402
from workflows.audit.bulk_verify import save_positions, verify_all, verify_since_last  # noqa: E402
from workflows.core.schema import upgrade  # noqa: E402

ACTIONS = ("party_registered", "task_state_changed", "case_opened", "task_completed",
           "work_order_changed", "case_updated", "case_closed")


def fill(url: str, keyring: Keyring, chains: int, events: int, *, first: int = 0,
         start: dict[str, tuple[int, str]] | None = None) -> dict[str, tuple[int, str]]:
    """Append ``events`` events to each of ``chains`` chains (continuing ``start``)."""
    key_id = keyring.primary_id(KeyPurpose.AUDIT_HMAC)
    key = keyring.key(KeyPurpose.AUDIT_HMAC, key_id)
    engine = make_engine(url)
    heads: dict[str, tuple[int, str]] = {}
    at = datetime(2026, 1, 5, tzinfo=UTC)
    with engine.begin() as conn:
        rows: list[dict] = []
        for number in range(first, first + chains):
            chain = f"case:{number + 1}"
            seq, prev = (start or {}).get(chain, (0, GENESIS))
            for _ in range(events):
                seq += 1
                header = {"chain_key": chain, "seq": seq, "occurred_at": at + timedelta(minutes=seq),
                          "actor_type": "user", "actor_id": "7", "actor_role": "mediator",
                          "actor_department_id": "12", "action": ACTIONS[min(seq - 1, 6)],
                          "object_type": "case", "object_id": str(number + 1),
                          "case_id": number + 1, "key_id": key_id}
                payload = canonical_json({"step": seq, "note": "调解进展记录" * 4})
                digest = chain_hash(key, prev, event_body(header, payload))
                rows.append({**header, "payload": payload, "prev_hash": prev, "hash": digest})
                prev = digest
            heads[chain] = (seq, prev)
            if len(rows) >= 20_000:
                conn.execute(insert(AuditEvent), rows)
                rows = []
        if rows:
            conn.execute(insert(AuditEvent), rows)
        for chain, (seq, digest) in heads.items():
            if start and chain in start:
                conn.execute(AuditChainHead.__table__.update()
                             .where(AuditChainHead.chain_key == chain)
                             .values(last_seq=seq, last_hash=digest))
        fresh = [{"chain_key": c, "last_seq": s, "last_hash": h} for c, (s, h) in heads.items()
                 if not start or c not in start]
        if fresh:
            conn.execute(insert(AuditChainHead), fresh)
    engine.dispose()
    return heads


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _backend_cpu(session: Session):
    """The CPU seconds of the session's PostgreSQL backend, when the server runs on this machine
    (None on SQLite or a remote server)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    stat = Path(f"/proc/{session.connection().exec_driver_sql('SELECT pg_backend_pid()').scalar()}/stat")
    if not stat.exists():
        return None

    def used() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


class Statements:
    """Statements this process sends through the engine (an executemany counts once), and the
    event streams the verifier runs on the driver's own cursor."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)
        streamed = bulk_verify._driver_batches

        def stream(conn, query):
            self.count += 1
            return streamed(conn, query)
        bulk_verify._driver_batches = stream

    def _seen(self, *_args) -> None:
        self.count += 1


def timed(label: str, run, server=None, statements: Statements | None = None) -> None:
    """Wall time and CPU seconds (this process and its finished workers): on a shared machine
    the CPU figure says what the work costs, the wall figure what this run got. ``server``: the
    database backend's CPU seconds so far (a one-process run on a local PostgreSQL)."""
    began, cpu, served = time.perf_counter(), _cpu(), server() if server else 0.0
    sent = statements.count if statements else 0
    result = run()
    took, used = time.perf_counter() - began, _cpu() - cpu
    print(f"{label:<34} {result.events:>10,} events {result.chains:>8,} chains "
          f"{took:8.2f} s wall {result.events / took:>10,.0f} events/s   "
          f"{used:7.2f} CPU s {result.events / max(used, 1e-9):>10,.0f} events per CPU s"
          f"  breaks {len(result.breaks)}")
    if server:
        backend = server() - served
        print(f"{'':<34} PostgreSQL backend {backend:.2f} CPU s: "
              f"{result.events / max(used + backend, 1e-9):,.0f} events per CPU s, both sides")
    if statements:
        print(f"{'':<34} {statements.count - sent} SQL statements")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--appended", type=int, default=2_000, help="chains that get 3 more events")
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(scratch.name) / 'audit.sqlite3'}"
    keyring = Keyring.generate(Path(scratch.name) / "keys.json")
    upgrade(url)
    began = time.perf_counter()
    heads = fill(url, keyring, args.chains, args.events)
    print(f"filled {args.chains:,} chains x {args.events} events in "
          f"{time.perf_counter() - began:.1f} s ({url.split(':', 1)[0]})")
    bulk_verify.MIN_CHAINS_PER_WORKER = 1
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    engine = make_engine(url)
    with Session(engine) as session:
        timed("full, 1 process", lambda: verify_all(session, keyring, workers=1),
              _backend_cpu(session))
        timed(f"full, {args.workers} processes", lambda: verify_all(session, keyring,
                                                                   workers=args.workers))
        first = verify_all(session, keyring, workers=args.workers)
        began, cpu = time.perf_counter(), _cpu()
        save_positions(session, keyring, first.positions, datetime.now(UTC))
        session.commit()
        print(f"{'saving the verified positions':<34} {len(first.positions):>26,} chains "
              f"{time.perf_counter() - began:8.2f} s wall {'':>21}{_cpu() - cpu:7.2f} CPU s "
              "(the CLI's full run does it too)")
    fill(url, keyring, args.appended, 3, start=heads)
    statements = Statements(engine)
    with Session(engine) as session:
        server = _backend_cpu(session)
        session.commit()    # the run begins its own transaction (one snapshot)
        timed(f"incremental ({args.appended:,} chains moved)",
              lambda: verify_since_last(session, keyring), server, statements)
        moved = verify_since_last(session, keyring)
        session.commit()
        began, cpu, sent = time.perf_counter(), _cpu(), statements.count
        save_positions(session, keyring, moved.positions, datetime.now(UTC))
        session.commit()
        print(f"{'saving their positions':<34} {len(moved.positions):>26,} chains "
              f"{time.perf_counter() - began:8.2f} s wall {'':>21}{_cpu() - cpu:7.2f} CPU s "
              f"{statements.count - sent} SQL statements (the CLI's incremental run does it too)")
    engine.dispose()


if __name__ == "__main__":
    main()
