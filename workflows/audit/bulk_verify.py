"""Verifying every audit chain at a city's size: one ordered stream per worker instead of one
query per chain, chains split into key ranges verified in parallel processes, and an incremental
mode that re-hashes only the events appended since each chain's last signed verified position
(``audit_chain_verified``).

A full run checks every event; an incremental run checks, for every chain whose head moved, that
the new events link to the position verified last time (its record's MAC checked first) and that
the head equals the last event. Events older than that position are not re-hashed: the full run
(``jiefen audit verify``) still does that.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    and_,
    bindparam,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.audit_chain import (
    BODY_KEYS,
    GENESIS,
    ChainBreak,
    canonical_json,
    event_body_in_order,
    verify_chain,
)
from engine.crypto import KeyPurpose, Keyring, audit_mac
from engine.db import make_engine
from engine.models import AuditChainHead, AuditChainVerified, AuditEvent
from workflows.audit.case_opening import CASE_OPENED, CASE_PRELUDE
from workflows.audit.stream_verify import ChainFacts, PartResult, verify_stream

STREAM_BATCH = 5000          # rows per statement when saving positions
FETCH_BATCH = 2000           # rows fetched per round trip (larger batches cost more CPU per row)
CHAIN_BATCH = 500            # chains per statement re-read for the reference code
INCREMENTAL_BATCH = 5000     # moved chains per statement in the incremental run
MAX_WORKERS = 8
MIN_CHAINS_PER_WORKER = 1000  # below this a second process costs more than it saves
_ROOT = Path(__file__).resolve().parents[2]   # where the worker finds the packages
_COLUMNS = [AuditEvent.chain_key, AuditEvent.seq, AuditEvent.case_id, AuditEvent.actor_type, AuditEvent.actor_id, AuditEvent.actor_role,
            AuditEvent.actor_department_id, AuditEvent.action, AuditEvent.object_type,
            AuditEvent.object_id, AuditEvent.key_id, AuditEvent.payload, AuditEvent.prev_hash,
            AuditEvent.hash]


def _columns(conn: Connection) -> list[Any]:
    """The event columns: first the hashed body's in canonical order (so a row's first values
    encode to the body without a mapping per row), then prev_hash and hash. The time is the very
    text the hash covers, formatted by the database (parsing it into a datetime and back was most
    of a full run's time)."""
    occurred: Any
    if conn.dialect.name == "postgresql":
        occurred = func.to_char(func.timezone("UTC", AuditEvent.occurred_at),
                                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    else:   # SQLite keeps exactly that text
        occurred = type_coerce(AuditEvent.occurred_at, String)
    named = {column.key: column for column in _COLUMNS} | {"occurred_at": occurred.label("occurred_at")}
    return [named[key] for key in BODY_KEYS] + [AuditEvent.prev_hash, AuditEvent.hash]


# positions in a row of _columns() (the full run reads rows as plain tuples)
_CHAIN, _SEQ, _ACTION = (BODY_KEYS.index(k) for k in ("chain_key", "seq", "action"))
_TUPLE_LINK = itemgetter(_SEQ, len(BODY_KEYS), BODY_KEYS.index("key_id"), len(BODY_KEYS) + 1)


def _dicts(result: Any) -> Iterator[dict[str, Any]]:
    names = list(result.keys())
    return (dict(zip(names, row, strict=True)) for row in result)


# -- full run --------------------------------------------------------------------------------------
def verify_all(session: Session, keyring: Keyring, *, workers: int | None = None) -> PartResult:
    """Every chain of the session's database, in ``workers`` processes (default: the cores, at
    most eight; one on a small database): this process verifies the first key range while
    worker processes verify the others, each on a connection of its own (what the workers see:
    committed events); the parts are merged, breaks ordered by chain."""
    keys = audit_keys(keyring)
    conn = snapshot(session)
    bounds = _ranges(conn, workers or min(os.cpu_count() or 1, MAX_WORKERS))
    if len(bounds) == 1:
        return verify_range(conn, keys)
    url = conn.engine.url.render_as_string(hide_password=False)
    procs = [_start_worker(url, keys, lo, hi) for lo, hi in bounds[1:]]
    try:
        parts = [verify_range_at(url, keys, *bounds[0])] + [_result(proc) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    merged = PartResult()
    for part in parts:
        merged.chains += part.chains
        merged.events += part.events
        merged.breaks += part.breaks
        merged.facts.update(part.facts)
        merged.positions += part.positions
    merged.breaks.sort(key=lambda b: b.chain_key)
    return merged


def audit_keys(keyring: Keyring) -> dict[str, bytes]:
    """Every audit HMAC key by id (handed to the worker processes)."""
    return {key_id: keyring.key(KeyPurpose.AUDIT_HMAC, key_id)
            for key_id in keyring.key_ids(KeyPurpose.AUDIT_HMAC)}


def _ranges(conn: Connection, workers: int) -> list[tuple[str | None, str | None]]:
    """Contiguous chain-key ranges [lo, hi) of about equal numbers of chains; the first and last
    are open, so a chain whose head row is gone still falls in one."""
    total = conn.scalar(select(func.count()).select_from(AuditChainHead))
    if workers <= 1 or not total or total < workers * MIN_CHAINS_PER_WORKER:
        return [(None, None)]
    cuts: list[str] = []
    for part in range(1, workers):
        cut = conn.scalar(select(AuditChainHead.chain_key).order_by(AuditChainHead.chain_key)
                          .offset(total * part // workers).limit(1))
        if cut is not None and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    edges: list[str | None] = [None, *cuts, None]
    return list(itertools.pairwise(edges))


def _start_worker(url: str, keys: Mapping[str, bytes], lo: str | None,
                  hi: str | None) -> subprocess.Popen[bytes]:
    """A ``workflows.audit.verify_worker`` process for one key range, its task already sent."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(_ROOT), env.get("PYTHONPATH"))))
    proc = subprocess.Popen([sys.executable, "-m", "workflows.audit.verify_worker"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    with proc.stdin:    # a few hundred bytes: the pipe takes them without blocking
        pickle.dump((url, keys, lo, hi), proc.stdin)
    return proc


def _result(proc: subprocess.Popen[bytes]) -> PartResult:
    assert proc.stdout is not None
    with proc.stdout:
        out = proc.stdout.read()
    if proc.wait() != 0:
        raise RuntimeError(f"audit verification worker exited with {proc.returncode}")
    return pickle.loads(out)   # noqa: S301 - our own child's pipe


def verify_range_at(url: str, keys: Mapping[str, bytes], lo: str | None,
                    hi: str | None) -> PartResult:
    """One key range of a parallel run, on a connection of its own to the database at ``url``,
    in one transaction that sees one snapshot (SQLite's WAL does; PostgreSQL needs REPEATABLE READ), so a chain appended
    to between reading the heads and the events is no break."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return verify_range(conn, keys, lo, hi)
    finally:
        engine.dispose()


def verify_range(conn: Connection, keys: Mapping[str, bytes], lo: str | None = None,
                 hi: str | None = None) -> PartResult:
    """Stream the chains with lo <= chain_key < hi in (chain, seq) order and verify each: the
    fast loop first (``stream_verify``), then the reference code for every chain it did not
    accept, so breaks are found and named as the reference finds them."""
    result = PartResult()
    heads = {chain: (seq, digest) for batch in _driver_batches(conn, _in_range(
        select(AuditChainHead.chain_key, AuditChainHead.last_seq, AuditChainHead.last_hash),
        AuditChainHead.chain_key, lo, hi)) for chain, seq, digest in batch}
    # (chain_key, seq) is unique: no tiebreak needed, so the index gives the order without a sort
    query = _in_range(select(*_columns(conn)), AuditEvent.chain_key, lo, hi).order_by(
        AuditEvent.chain_key, AuditEvent.seq)
    suspects: list[tuple[str, tuple[int, str]]] = []
    verify_stream(_driver_batches(conn, query), keys, heads, result, suspects)
    # then the reference code, CHAIN_BATCH chains a query (every chain may be a suspect, e.g.
    # when an audit key is missing); the heads left are heads without any event
    checks = suspects + sorted(heads.items())
    for offset in range(0, len(checks), CHAIN_BATCH):
        part = checks[offset:offset + CHAIN_BATCH]
        rows = conn.execute(select(*_columns(conn))
                            .where(AuditEvent.chain_key.in_([chain for chain, _ in part]))
                            .order_by(AuditEvent.chain_key, AuditEvent.seq, AuditEvent.id))
        grouped = {chain: list(group)
                   for chain, group in itertools.groupby(rows, key=itemgetter(_CHAIN))}
        for chain, head in part:
            _verify_one(result, chain, grouped.get(chain, []), keys, head)
    return result


def _driver_batches(conn: Connection, query: Any) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows as the driver returns them, FETCH_BATCH at a time (SQLAlchemy's result rows
    cost about as much as the hashing); on PostgreSQL from a server-side cursor."""
    compiled = query.compile(dialect=conn.dialect)
    raw: Any = conn.connection.driver_connection
    params: Any
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name="audit_verify")
        params = compiled.params
    else:
        cursor = raw.cursor()
        named = compiled.params     # built anew at every access: once
        params = [named[name] for name in compiled.positiontup or ()]
    try:
        cursor.execute(str(compiled), params)
        while batch := cursor.fetchmany(FETCH_BATCH):
            yield batch
    finally:
        cursor.close()


def _in_range(query, column, lo: str | None, hi: str | None):
    if lo is not None:
        query = query.where(column >= lo)
    if hi is not None:
        query = query.where(column < hi)
    return query


def _verify_one(result: PartResult, chain: str, rows: Iterable[Sequence[Any]],
                keys: Mapping[str, bytes], head: tuple[int, str]) -> None:
    facts = ChainFacts(0) if chain.startswith("case:") else None
    noted = _noting(rows, facts) if facts is not None else rows
    count, broken = verify_chain(chain, noted, keys.get, head=head, link=_TUPLE_LINK,
                                 body=event_body_in_order)
    result.chains += 1
    result.events += count
    if broken is not None:
        result.breaks.append(broken)
    else:
        result.positions.append((chain, head[0], head[1]))
    if facts is not None and facts.first_seq:
        result.facts[chain] = facts


def _noting(rows: Iterable[Sequence[Any]], facts: ChainFacts) -> Iterator[Sequence[Any]]:
    for row in rows:
        seq, action = row[_SEQ], row[_ACTION]
        if not facts.first_seq:
            facts.first_seq = seq
        if action == CASE_OPENED and facts.opened_seq is None:
            facts.opened_seq = seq
        if action not in CASE_PRELUDE and facts.first_other_seq is None:
            facts.first_other_seq = seq
        yield row


# -- verified positions ------------------------------------------------------------------------------
def position_mac(keyring: Keyring, chain: str, seq: int, digest: str) -> str:
    key_id = keyring.primary_id(KeyPurpose.AUDIT_HMAC)
    data = canonical_json(["verified", chain, seq, digest]).encode("utf-8")
    return f"{key_id}:{audit_mac(keyring, key_id, data)}"


def position_ok(keyring: Keyring, row: AuditChainVerified) -> bool:
    return _position_ok(keyring, row.chain_key, row.seq, row.hash, row.mac)


def _position_ok(keyring: Keyring, chain: str, seq: int, digest: str, signed: str | None) -> bool:
    key_id, _, mac = (signed or "").partition(":")
    try:
        data = canonical_json(["verified", chain, seq, digest]).encode("utf-8")
        return mac == audit_mac(keyring, key_id, data)
    except KeyError:           # an unknown key id: not ours
        return False


def save_positions(session: Session, keyring: Keyring, positions: Iterable[tuple[str, int, str]],
                   now: datetime) -> None:
    """Upsert the verified (chain, seq, hash) positions, each signed."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    batch: list[dict[str, Any]] = []
    for chain, seq, digest in positions:
        batch.append({"chain_key": chain, "seq": seq, "hash": digest, "verified_at": now,
                      "mac": position_mac(keyring, chain, seq, digest)})
        if len(batch) >= STREAM_BATCH:
            _upsert(session, dialect, batch)
            batch = []
    if batch:
        _upsert(session, dialect, batch)


def _upsert(session: Session, dialect: Any, batch: list[dict[str, Any]]) -> None:
    stmt = dialect.insert(AuditChainVerified)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AuditChainVerified.chain_key],
        set_={c: stmt.excluded[c] for c in ("seq", "hash", "verified_at", "mac")})
    session.execute(stmt, batch)


# -- incremental run -----------------------------------------------------------------------------
def verify_since_last(session: Session, keyring: Keyring) -> PartResult:
    """The chains whose head moved since their verified position: the new events only.

    A fixed number of statements, whatever the number of moved chains: the moved chains and
    their positions (one join), the positions whose head is gone (one), then the events from each
    position on, INCREMENTAL_BATCH chains a statement (a join with their positions), hashed by
    the fast loop; a chain it does not accept is re-read and judged by the reference code."""
    keys = audit_keys(keyring)
    conn = snapshot(session)
    result = PartResult()
    verified = AuditChainVerified
    moved = conn.execute(
        select(AuditChainHead.chain_key, AuditChainHead.last_seq, AuditChainHead.last_hash,
               verified.seq, verified.hash, verified.mac)
        .outerjoin(verified, verified.chain_key == AuditChainHead.chain_key)
        .where((verified.seq.is_(None)) | (verified.seq != AuditChainHead.last_seq)
               | (verified.hash != AuditChainHead.last_hash))).all()
    orphans = conn.execute(
        select(verified.chain_key, verified.seq).outerjoin(
            AuditChainHead, AuditChainHead.chain_key == verified.chain_key)
        .where(AuditChainHead.chain_key.is_(None))).all()
    for chain, seq in orphans:
        result.chains += 1
        result.breaks.append(ChainBreak(chain, seq, "the chain head is gone since it "
                                        "was last verified (events deleted?)"))
    starts: dict[str, tuple[int, str]] = {}
    heads: dict[str, tuple[int, str]] = {}
    for chain, last_seq, last_hash, seq, digest, mac in moved:
        heads[chain] = (last_seq, last_hash)
        if seq is None:
            starts[chain] = (0, GENESIS)
        elif not _position_ok(keyring, chain, seq, digest, mac):
            result.chains += 1
            result.breaks.append(ChainBreak(chain, seq, "verified position altered "
                                            "(MAC invalid)"))
        elif last_seq < seq:
            result.chains += 1
            result.breaks.append(ChainBreak(chain, last_seq + 1, "events deleted since the chain "
                                            "was last verified"))
        else:
            starts[chain] = (seq, digest)
    chains = sorted(starts)
    for offset in range(0, len(chains), INCREMENTAL_BATCH):
        part = chains[offset:offset + INCREMENTAL_BATCH]
        pending = {chain: heads[chain] for chain in part}
        suspects: list[tuple[str, tuple[int, str]]] = []
        verify_stream(_driver_batches(conn, _since(conn, part, starts)), keys, pending, result,
                      suspects, starts)
        # the reference code names the break: chains the loop did not accept, and chains
        # without a single event from their position on
        checks = sorted([chain for chain, _ in suspects] + list(pending))   # by chain, as reports list them
        for at in range(0, len(checks), CHAIN_BATCH):
            few = checks[at:at + CHAIN_BATCH]
            grouped = {chain: list(group) for chain, group in itertools.groupby(
                _dicts(conn.execute(_since(conn, few, starts))), key=itemgetter("chain_key"))}
            for chain in few:
                _verify_after(result, chain, grouped.get(chain, []), keys, starts[chain],
                              heads[chain])
    return result


def _since(conn: Connection, chains: Sequence[str], starts: Mapping[str, tuple[int, str]]) -> Any:
    """The events of ``chains`` from each one's start on, in (chain, seq) order: one statement,
    joined with the (chain, start) pairs so each chain is one range of the unique index. The
    pairs are one or two parameters (PostgreSQL: two arrays, unnest; SQLite: a JSON list,
    json_each), not a parameter each: compiling thousands of them cost more than the run."""
    pairs = [(chain, starts[chain][0]) for chain in chains]
    since: Any
    if conn.dialect.name == "postgresql":
        since = func.unnest(
            bindparam("chains", [chain for chain, _ in pairs], type_=postgresql.ARRAY(String)),
            bindparam("starts", [seq for _, seq in pairs], type_=postgresql.ARRAY(Integer)),
        ).table_valued("chain_key", "seq").render_derived(name="since")
    else:
        listed = func.json_each(bindparam("pairs", json.dumps(pairs), type_=String)).table_valued(
            "value")
        since = select(func.json_extract(listed.c.value, "$[0]").label("chain_key"),
                       func.json_extract(listed.c.value, "$[1]").label("seq")).cte("since")
    return (select(*_columns(conn))
            .join_from(AuditEvent, since, and_(AuditEvent.chain_key == since.c.chain_key,
                                               AuditEvent.seq >= since.c.seq))
            .order_by(AuditEvent.chain_key, AuditEvent.seq))


def snapshot(session: Session) -> Connection:
    """The session's connection, its transaction one snapshot for every statement of a run.
    PostgreSQL's default READ COMMITTED gives each statement a snapshot of its own, so an event
    appended between reading the heads and reading the events would look like a break: a
    transaction not yet begun is begun REPEATABLE READ. (SQLite's transaction, begun with
    BEGIN, reads one WAL snapshot already; a session bound to a connection, as in tests, or
    already in a transaction keeps the transaction it has.)"""
    if (session.get_bind().dialect.name == "postgresql" and not session.in_transaction()
            and isinstance(session.get_bind(), Engine)):
        return session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return session.connection()


def _verify_after(result: PartResult, chain: str, rows: Sequence[Mapping[Any, Any]],
                  keys: Mapping[str, bytes], start: tuple[int, str],
                  head: tuple[int, str]) -> None:
    anchor = [r for r in rows if r["seq"] == start[0]]
    if start[0] and (not anchor or anchor[0]["hash"] != start[1]):
        result.chains += 1
        result.breaks.append(ChainBreak(chain, start[0], "the event verified last time was "
                                        "removed or rewritten"))
        return
    count, broken = verify_chain(chain, [r for r in rows if r["seq"] > start[0]], keys.get,
                                 head=head, start=start)
    result.chains += 1
    result.events += count
    if broken is not None:
        result.breaks.append(broken)
    else:
        result.positions.append((chain, head[0], head[1]))
