"""Keeping the rollups current: a change to a case, a work order, a response limit or a notice
queues the case (``watch`` notes it at each flush, ``queue_pending`` writes the queue in the unit
of work's commit: one statement); a catch-up (workflows/rollups/catch_up.py) claims queued cases
and replaces their contributions (``apply``); ``rebuild`` recomputes everything from the cases
(``jiefen cockpit rebuild``, and the bulk generator after a load) and empties the queue.

Each case's facts are kept in rollup_case_facts and locked while they are replaced, so a catch-up
and a rebuild apply one after the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, func, insert, literal_column, null, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflows.models import Case, WorkOrder
from workflows.models.rollups import (
    RollupBoard,
    RollupCase,
    RollupFacts,
    RollupNotice,
    RollupOpen,
    RollupOrder,
    RollupPending,
    RollupPlace,
    RollupState,
)
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.rollups.facts import (
    TABLES,
    Contributions,
    contributions,
    facts,
    notice_facts,
    place_paths,
)

PENDING = "jiefen_rollup_cases"
NOTICED = "jiefen_rollup_noticed"     # cases given (or losing) a supervision notice
BUILT = "jiefen_rollups_built"        # rollup_state.built, once read in this session
MODELS: dict[str, Any] = {"case": RollupCase, "open": RollupOpen, "order": RollupOrder,
                          "place": RollupPlace, "board": RollupBoard, "notice": RollupNotice}
KEYS = {"case": ("grain", "day", "area_path", "unit_id", "category"),
        "open": ("grain", "day", "area_path", "unit_id", "closed"),
        "order": ("grain", "day", "area_path", "unit_id"),
        "place": ("grain", "day", "place_id", "category"),
        "board": ("area_path", "unit_id", "risk", "light", "level"),
        "notice": ("grain", "day", "area_path", "unit_id", "prev")}
CASE_COLUMNS = (Case.id, Case.duplicate_of_id, Case.opened_at, Case.closed_at, Case.status,
                Case.outcome, Case.satisfaction, Case.second_complaint, Case.urgency,
                Case.place_id, Case.place_path, Case.lead_department_id, Case.category,
                Case.risk_level)
ORDER_COLUMNS = (WorkOrder.id, WorkOrder.case_id, WorkOrder.department_id,
                 WorkOrder.dispatched_at, WorkOrder.accepted_at, WorkOrder.completed_at,
                 WorkOrder.due_at, WorkOrder.status, WorkOrder.return_reason, WorkOrder.light)
NOTICE_COLUMNS = (SupervisionNotice.case_id, SupervisionNotice.issued_at,
                  SupervisionNotice.department_id, SupervisionNotice.level)
BATCH = 20_000


def watch(session: Session) -> None:
    """Note the cases whose rows change at each flush of ``session``."""
    event.listen(session, "after_flush", _after_flush)


def _after_flush(session: Session, _context: object) -> None:
    noted: set[int] = session.info.setdefault(PENDING, set())
    noticed: set[int] = session.info.setdefault(NOTICED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Case) and obj.id is not None:
            noted.add(obj.id)
        elif isinstance(obj, WorkOrder | WorkOrderSla) and obj.case_id is not None:
            noted.add(obj.case_id)
    # a notice's day, unit and rung never change after it is issued: only new or deleted ones
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, SupervisionNotice) and obj.case_id is not None:
            noted.add(obj.case_id)
            noticed.add(obj.case_id)


def queue_pending(session: Session) -> int:
    """Queue the cases changed in this transaction for the next catch-up (call after the last
    flush, before commit): one statement, nothing when no case changed; returns how many.

    A queued case that was parked (its apply failed) is due again at once: the change may be
    what mends it, and it is counted at the next catch-up (or parked again if it still fails)."""
    ids = sorted(session.info.pop(PENDING, set()))
    noticed = session.info.pop(NOTICED, set())
    if not ids:
        return 0
    # one fixed statement with a parameter set per case: compiled once per process (a
    # statement built with many VALUES rows has no cache key and was compiled at every step);
    # with RETURNING, SQLAlchemy sends the sets as one multi-row INSERT ("insertmanyvalues"),
    # not a statement per case. In case order: two steps, or a step and a rebuild, lock the
    # cases' rows in the same order
    session.execute(_QUEUE[session.get_bind().dialect.name == "postgresql"],
                    [{"case_id": i, "noticed": i in noticed} for i in ids])
    return len(ids)


def _queue_statement(insert_of: Any) -> Any:
    table = RollupPending.__table__
    stmt = insert_of(table)
    return stmt.on_conflict_do_update(index_elements=["case_id"], set_={
        "noticed": or_(table.c.noticed, stmt.excluded.noticed),
        "attempts": literal_column("0"), "parked_at": null(), "retry_at": null(),
        "last_error": null()}).returning(table.c.case_id)


# (SQLite, PostgreSQL)
_QUEUE = (_queue_statement(sqlite.insert), _queue_statement(postgresql.insert))


def apply(session: Session, ids: list[int], noticed: set[int], tz: str) -> int:
    """Replace the contributions of these cases by what their rows hold now (``noticed``: those
    whose notices changed); returns how many cases. The facts are locked first, so the cases,
    orders and limits are read after any rebuild or catch-up of the same cases committed."""
    if not ids:
        return 0
    ids = sorted(ids)
    zone = ZoneInfo(tz)
    old = {row.case_id: json.loads(row.facts) for row in session.execute(
        select(RollupFacts.case_id, RollupFacts.facts).where(RollupFacts.case_id.in_(ids))
        .order_by(RollupFacts.case_id).with_for_update())}
    # the notices are read only for the cases that got or lost one, or whose facts hold none
    # (a new case): most catch-ups read nothing more
    known = {i: old[i]["n"] for i in ids if i in old and "n" in old[i] and i not in noticed}
    new = _facts_of(session, ids, zone, known)
    delta: Contributions = {}
    paths: dict[int, str] = {}
    for case_id in ids:
        before, after = old.get(case_id), new.get(case_id)
        if before == after:
            continue
        for key, values in contributions(after).items():
            _merge(delta, key, values, 1)
        for key, values in contributions(before).items():
            _merge(delta, key, values, -1)
        paths.update(place_paths(after))
        paths.update(place_paths(before))
    _upsert(session, delta, paths)
    gone = [i for i in ids if i in old and new.get(i) is None]
    if gone:
        session.execute(delete(RollupFacts).where(RollupFacts.case_id.in_(gone)))
    changed = [{"case_id": i, "facts": json.dumps(new[i], separators=(",", ":"))}
               for i in ids if new.get(i) is not None and new[i] != old.get(i)]
    if changed:
        _put(session, RollupFacts.__table__, changed, ("case_id",), replace=("facts",))
    return len(ids)


def _merge(out: Contributions, key: Any, values: list[float], sign: int) -> None:
    have = out.setdefault(key, [0] * len(values))
    for i, v in enumerate(values):
        have[i] += sign * v


def _facts_of(session: Session, ids: list[int], zone: ZoneInfo,
              known: dict[int, list[list[Any]]] | None = None
              ) -> dict[int, dict[str, Any] | None]:
    """The facts of these cases: case, orders and response limits in one joined statement (in a
    catch-up it runs after the claim and the facts' lock, so it sees every change queued before
    the claim); ``known``: the notices of cases whose notices did not change (the others' are read)."""
    cases: dict[int, Any] = {}
    orders: dict[int, list[Any]] = {}
    limits: dict[int, Any] = {}
    for row in session.execute(
            select(*CASE_COLUMNS, *(c.label(f"o_{c.key}") for c in ORDER_COLUMNS),
                   WorkOrderSla.response_due_at.label("limit"))
            .outerjoin(WorkOrder, WorkOrder.case_id == Case.id)
            .outerjoin(WorkOrderSla, WorkOrderSla.work_order_id == WorkOrder.id)
            .where(Case.id.in_(ids)).order_by(Case.id, WorkOrder.id)):
        if row.id not in cases:
            cases[row.id] = SimpleNamespace(**{c.key: row._mapping[c.key] for c in CASE_COLUMNS})
        if row.o_id is not None:
            orders.setdefault(row.id, []).append(SimpleNamespace(
                **{c.key: row._mapping[f"o_{c.key}"] for c in ORDER_COLUMNS}))
            limits[row.o_id] = row.limit
    notices = dict(known or {})
    unknown = [i for i in cases if i not in notices]
    if unknown:
        notices.update(_notices_of(session, unknown, zone))
    return {i: facts(c, orders.get(i, ()), limits, zone, notices[i]) for i, c in cases.items()}


def _notices_of(session: Session, ids: list[int], zone: ZoneInfo) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for notice in session.execute(select(*NOTICE_COLUMNS)
                                  .where(SupervisionNotice.case_id.in_(ids))):
        found.setdefault(notice.case_id, []).append(notice)
    return {case_id: notice_facts(found.get(case_id, ()), zone) for case_id in ids}


def _insert(session: Session, table: Any) -> Any:
    return (postgresql.insert(table) if session.get_bind().dialect.name == "postgresql"
            else sqlite.insert(table))


def _put(session: Session, table: Any, rows: list[dict[str, Any]], keys: Iterable[str], *,
         add: Iterable[str] = (), replace: Iterable[str] = ()) -> None:
    stmt = _insert(session, table)
    updates = {name: table.c[name] + stmt.excluded[name] for name in add}
    updates.update({name: stmt.excluded[name] for name in replace})
    session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates), rows)


def _rows(delta: Contributions, paths: dict[int, str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for (name, key), values in sorted(delta.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        if not any(values):
            continue
        row = dict(zip(KEYS[name], key, strict=True))
        row.update(zip(TABLES[name], values, strict=True))
        if name == "place":
            row["place_path"] = paths.get(row["place_id"], "")
        out[name].append(row)
    return out


def _upsert(session: Session, delta: Contributions, paths: dict[int, str]) -> None:
    for name, rows in _rows(delta, paths).items():
        if rows:   # in key order: concurrent writers lock rows in the same order
            _put(session, MODELS[name].__table__, rows, KEYS[name], add=TABLES[name])


# -- rebuild ------------------------------------------------------------------------------------
def rebuild(session: Session, tz: str, now: datetime,
            only: tuple[str, ...] | None = None) -> dict[str, int]:
    """Recompute every rollup row and every case's facts from the cases (one transaction: the
    caller commits). Returns row counts.

    ``only`` names some tables (e.g. ``("board", "notice")``) to recompute just them and
    leave the facts alone: for a benchmark database whose other rollups are built already."""
    names = tuple(only or MODELS)
    session.info.pop(BUILT, None)
    if only is None:
        # the cases queued so far are read below; one queued meanwhile stays for a catch-up
        # (applying a case whose facts are current changes nothing). Before the facts' lock: a
        # catch-up holding queued rows gets its lock and ends first. The rows are locked in case
        # order, as a step's queue write and a claim lock them: in table order a rebuild could
        # hold one a step still needs while waiting for one that step holds (a deadlock)
        queued = select(RollupPending.case_id).order_by(RollupPending.case_id).with_for_update()
        session.execute(delete(RollupPending).where(RollupPending.case_id.in_(queued)),
                        execution_options={"synchronize_session": False})
    if session.get_bind().dialect.name == "postgresql":
        # a catch-up claiming meanwhile waits (its facts lock) and then applies to the new rows
        session.execute(text("LOCK TABLE rollup_case_facts IN EXCLUSIVE MODE"))
    for name in names:
        session.execute(delete(MODELS[name]))
    if only is None:
        session.execute(delete(RollupFacts))
    total, paths, cases = _sum_all(session, ZoneInfo(tz), names, store_facts=only is None)
    counts = dict.fromkeys(MODELS, 0)
    counts["cases"] = cases
    for name, rows in _rows(total, paths).items():
        for chunk in range(0, len(rows), BATCH):
            session.execute(insert(MODELS[name]), rows[chunk:chunk + BATCH])
        counts[name] = len(rows)
    if only is not None:
        return counts
    state = session.get(RollupState, 1)
    if state is None:
        session.add(RollupState(id=1, built=1, rebuilt_at=now))
    else:
        state.built, state.rebuilt_at = 1, now
    return counts


def _sum_all(session: Session, zone: ZoneInfo, names: tuple[str, ...], *, store_facts: bool
             ) -> tuple[Contributions, dict[int, str], int]:
    """Every case's contributions to the named tables, summed (batches of cases by id); the
    facts stored on the way when ``store_facts``."""
    total: Contributions = {}
    paths: dict[int, str] = {}
    cases = 0
    last = int(session.scalar(select(func.coalesce(func.max(Case.id), 0))) or 0)
    for start in range(0, last, BATCH):
        ids = list(session.scalars(select(Case.id).where(Case.id > start, Case.id <= start + BATCH)))
        rows = []
        for case_id, f in (_facts_of(session, ids, zone) if ids else {}).items():
            if f is None:
                continue
            cases += 1
            rows.append({"case_id": case_id, "facts": json.dumps(f, separators=(",", ":"))})
            for key, values in contributions(f).items():
                if key[0] in names:
                    _merge(total, key, values, 1)
            paths.update(place_paths(f))
        if rows and store_facts:
            session.execute(insert(RollupFacts), rows)
    return total, paths, cases


def is_built(session: Session) -> bool:
    """Whether the rollups hold every case (asked once per session: a page asks it per part)."""
    built = session.info.get(BUILT)
    if built is None:
        built = session.info[BUILT] = bool(session.scalar(
            select(RollupState.built).where(RollupState.id == 1)))
    return built


def day_of(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()
