"""Rollup catch-ups under concurrency on PostgreSQL (each its own Services and connections): two
catch-ups at once never wait for each other and claim disjoint cases; a step changing a case
that a catch-up has claimed and read waits for that catch-up, stays queued and is applied by the
next one; a cockpit reader waits for a batch in flight and shows it, a refused one does not wait,
and one during a rebuild gives up waiting and notes the queue as not counted (nothing parked);
two schedulers retrying a parked case at once try it once; a rebuild racing a step's queue write
does not deadlock with it. Every end state equals a rebuild from the cases."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from tests.conftest import PG
from tests.district_fixtures import build_district
from tests.factories import seed
from tests.kpi_fixtures import at, build_month, failing_facts
from tests.workflows.test_rollups import SUPERVISOR, TZ, _rows
from workflows.access.policy import Denied
from workflows.core.actors import Actor
from workflows.models import Case
from workflows.models.rollups import RollupCase, RollupPending
from workflows.reports import cockpit
from workflows.rollups import catch_up as catching
from workflows.rollups import maintain
from workflows.rollups.catch_up import catch_up
from workflows.runtime.bootstrap import bootstrap

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]
HELD = "held-catch-up"


@pytest.fixture
def two(committed_services, clock, keyring):
    """The committed services with the month of tests/kpi_fixtures.py, and a second Services
    on its own engine."""
    seed(committed_services)
    district = build_district(committed_services)
    cases = build_month(committed_services, district)
    other = bootstrap(committed_services.settings, clock=clock, keyring=keyring)
    yield committed_services, other, cases
    other.db.dispose()


@pytest.fixture
def held(monkeypatch):
    """A catch-up run on the thread named HELD stops after its apply, before its commit, until
    released; every catch-up records the cases it claimed."""
    applied, release, claimed = threading.Event(), threading.Event(), {}
    real = catching.apply

    def apply(session, ids, noticed, tz):
        done = real(session, ids, noticed, tz)
        name = threading.current_thread().name
        claimed.setdefault(name, []).extend(ids)
        if name == HELD and ids:
            applied.set()
            release.wait(60)
        return done

    monkeypatch.setattr(catching, "apply", apply)
    yield applied, release, claimed
    release.set()


def _thread(name, fn):
    out: dict = {}

    def run():
        try:
            out["result"] = fn()
        except Exception as exc:  # surfaced by the test
            out["error"] = exc

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, out


def _change(services, case_id, **values):
    with services.new_uow() as uow:
        row = uow.session.get(Case, case_id)
        for name, value in values.items():
            setattr(row, name, value)
        uow.commit()


def _close(services, case_id):
    _change(services, case_id, status="closed", closed_at=at("2025-03-25 09:00"), outcome="R1",
            satisfaction="satisfied")


def _queued(services):
    with services.session_factory() as s:
        return set(s.scalars(select(RollupPending.case_id)))


def _closed_in_march(services):
    with services.session_factory() as s:
        return sum(s.scalars(select(RollupCase.closed).where(
            RollupCase.grain == "m", RollupCase.day == date(2025, 3, 1))))


def _wait_for_a_lock_wait(services):
    """Until another connection of this database waits for a lock (a bound for a stuck test,
    not a measurement)."""
    deadline = time.monotonic() + 30
    with services.db.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                       " current_database() AND wait_event_type = 'Lock'"))
            conn.rollback()   # pg_stat_activity is read once per transaction
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("nobody waited for a lock")


def _rebuilt_equals_caught_up(services):
    caught_up = _rows(services)
    with services.new_uow() as uow:
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert _rows(services) == caught_up


def test_two_catch_ups_at_once_claim_disjoint_cases_without_waiting(two, held):
    first, second, cases = two
    applied, release, claimed = held
    for letter in ("A", "B", "D", "H"):
        _change(first, cases[letter].id, second_complaint=True)
    queued = _queued(first)
    thread, out = _thread(HELD, lambda: catch_up(first, batch=2, rounds=1))
    assert applied.wait(30)
    other, other_out = _thread("other", lambda: catch_up(second, batch=2))
    other.join(timeout=30)
    assert not other.is_alive(), "the second catch-up waited for the first"
    assert other_out == {"result": 2}
    release.set()
    thread.join(timeout=30)
    assert out == {"result": 2}
    assert sorted(claimed[HELD]) == sorted(queued)[:2]
    assert sorted(claimed["other"]) == sorted(queued)[2:]
    assert _queued(first) == set()
    _rebuilt_equals_caught_up(first)


def test_a_change_after_the_catch_up_read_is_applied_by_the_next_one(two, held):
    first, second, cases = two
    applied, release, _claimed = held
    h = cases["H"].id
    closed = _closed_in_march(first)
    _change(first, h, risk_level="orange")
    thread, out = _thread(HELD, lambda: catch_up(first))
    assert applied.wait(30)                       # H claimed, read and applied, not committed
    step, step_out = _thread("step", lambda: _close(second, h))
    _wait_for_a_lock_wait(first)                  # its queue write waits for the claim
    assert step.is_alive()
    release.set()
    thread.join(timeout=30)
    step.join(timeout=30)
    assert out == {"result": 1} and step_out == {"result": None}
    assert _queued(first) == {h}                  # queued again: the read did not see it
    assert _closed_in_march(first) == closed
    assert catch_up(second) == 1
    assert _closed_in_march(first) == closed + 1
    _rebuilt_equals_caught_up(first)


def test_a_reader_waits_for_a_batch_in_flight_and_shows_it(two, held, monkeypatch):
    first, second, cases = two
    applied, release, _claimed = held
    # the release below comes after the reader's wait is seen: not within 2 s on a busy machine
    monkeypatch.setattr(catching, "READER_WAIT", timedelta(seconds=60))
    _close(first, cases["H"].id)
    thread, out = _thread(HELD, lambda: catch_up(first))
    assert applied.wait(30)

    def k01():
        figures = cockpit.overview(second, SUPERVISOR, date(2025, 3, 1), date(2025, 3, 31))
        k = {f.kpi.id: f for f in figures.figures}["K-01"]
        return k.numerator, k.denominator, k.value

    reader, read = _thread("reader", k01)
    _wait_for_a_lock_wait(first)
    assert reader.is_alive()
    release.set()
    thread.join(timeout=30)
    reader.join(timeout=30)
    assert out == {"result": 1}
    assert read == {"result": (2, 4, 50.0)}       # H closed and resolved in March
    _rebuilt_equals_caught_up(first)


def test_a_refused_reader_does_not_wait_for_a_batch_in_flight(two, held):
    first, second, cases = two
    applied, release, _claimed = held
    _close(first, cases["H"].id)
    thread, out = _thread(HELD, lambda: catch_up(first))
    assert applied.wait(30)
    nobody = Actor(type="user", id="9", username="n", roles=frozenset({"mediator"}),
                   department_id=None, unit_path=None)
    reader, read = _thread("reader", lambda: cockpit.overview(
        second, nobody, date(2025, 3, 1), date(2025, 3, 31)))
    reader.join(timeout=30)
    assert not reader.is_alive(), "a refused reader waited for the catch-up"
    assert isinstance(read.get("error"), Denied)
    release.set()
    thread.join(timeout=30)
    assert out == {"result": 1}


def _k01_and_note(services):
    overview = cockpit.overview(services, SUPERVISOR, date(2025, 3, 1), date(2025, 3, 31))
    k = {f.kpi.id: f for f in overview.figures}["K-01"]
    return (k.numerator, k.denominator, k.value), overview.not_counted


def _attempts(services):
    with services.session_factory() as s:
        return dict(s.execute(select(RollupPending.case_id, RollupPending.attempts)).all())


@pytest.mark.parametrize("queued", ["before", "during"])
def test_a_reader_during_a_rebuild_shows_its_figures_with_the_queue_noted(two, queued,
                                                                            monkeypatch):
    """A rebuild holds the queue rows it empties (H queued before it) or the facts (H queued
    while it runs, so the reader claims H and then waits for its facts) until it commits. The
    reader gives up after READER_WAIT, shows the figures without H and counts H as not yet
    counted; H stays queued, not parked; once the rebuild commits the next read counts H."""
    # the rebuild holds its locks until the reader has given up, whatever the wait: the test
    # need not sit out the production 2 s
    monkeypatch.setattr(catching, "READER_WAIT", timedelta(milliseconds=200))
    first, second, cases = two
    h = cases["H"].id
    before, note = _k01_and_note(second)
    assert note == 0
    if queued == "before":
        _close(first, h)
    with first.new_uow() as rebuild:
        maintain.rebuild(rebuild.session, TZ, first.clock.now())
        if queued == "during":
            _close(second, h)
        reader, read = _thread("reader", lambda: _k01_and_note(second))
        reader.join(timeout=30)
        try:
            assert not reader.is_alive(), "the reader waited for the rebuild"
            assert read == {"result": (before, 1)}
            assert _attempts(second) == {h: 0}
        finally:
            rebuild.commit()
    reader.join(timeout=30)
    assert _k01_and_note(second) == ((2, 4, 50.0), 0)   # H closed and resolved in March
    assert _queued(first) == set()
    _rebuilt_equals_caught_up(first)


def test_two_schedulers_retrying_a_parked_case_try_it_once(two, monkeypatch, clock):
    first, second, cases = two
    d = cases["D"].id
    failing_facts(monkeypatch).add(d)
    _change(first, d, second_complaint=False)
    assert catch_up(first) == 0                              # D parked
    clock.advance(seconds=31)
    applied, release = threading.Event(), threading.Event()
    real = catching.apply

    def apply(session, ids, noticed, tz):
        if threading.current_thread().name == HELD and ids:
            applied.set()
            release.wait(60)
        return real(session, ids, noticed, tz)

    monkeypatch.setattr(catching, "apply", apply)
    thread, out = _thread(HELD, lambda: catching.retry_parked(first))
    assert applied.wait(30)                                  # D claimed by the first
    other, other_out = _thread("other", lambda: catching.retry_parked(second))
    other.join(timeout=30)
    assert not other.is_alive(), "the second scheduler waited for the first"
    assert other_out == {"result": 0}
    release.set()
    thread.join(timeout=30)
    assert out == {"result": 0}                              # failed again
    with first.session_factory() as s:
        row = s.get(RollupPending, d)
        assert row is not None and row.attempts == 2


def test_a_rebuild_takes_the_queue_in_case_order_so_a_step_queueing_two_cases_never_deadlocks(
        two):
    """A step's queue write locks its cases' rows in case order; a rebuild emptying the queue
    takes them in the same order, not in the order they sit in the table (there case B was
    queued before case A), so neither waits for the other while holding what the other needs."""
    first, second, cases = two
    a, b = sorted((cases["A"].id, cases["B"].id))
    with first.db.begin() as conn:
        conn.execute(text("DELETE FROM rollup_pending"))
        conn.execute(text("INSERT INTO rollup_pending (case_id, noticed) VALUES (:b, false)"),
                     {"b": b})
        conn.execute(text("INSERT INTO rollup_pending (case_id, noticed) VALUES (:a, false)"),
                     {"a": a})
    queue = text("INSERT INTO rollup_pending (case_id, noticed) VALUES (:id, true) ON CONFLICT "
                 "(case_id) DO UPDATE SET noticed = rollup_pending.noticed OR excluded.noticed")

    def rebuild():
        with second.new_uow() as uow:
            maintain.rebuild(uow.session, TZ, second.clock.now())
            uow.commit()

    with first.db.connect() as step:
        step.execute(queue, {"id": a})                 # the step holds case A's row ...
        thread, out = _thread("rebuild", rebuild)
        _wait_for_a_lock_wait(first)                   # ... the rebuild waits for it
        step.execute(queue, {"id": b})                 # and the step goes on to case B
        step.commit()
    thread.join(timeout=30)
    assert not thread.is_alive() and out == {"result": None}
    assert _queued(first) == set()                     # the rebuild covered both
    _rebuilt_equals_caught_up(first)


def test_a_reader_parking_a_case_during_a_rebuild_does_not_wait_for_it(
        two, monkeypatch):
    """A reader's apply of D fails while a rebuild started meanwhile waits for D's queue row,
    which the reader holds. The reader parks D in the transaction that claimed it, so it never
    waits for the rebuild, and reads without D (noted); the rebuild then takes the parked row
    and counts D."""
    first, second, cases = two
    d = cases["D"].id
    before, _note = _k01_and_note(first)
    _change(first, d, second_complaint=False)
    real = catching.apply
    tries: list = []
    rebuilt, release = threading.Event(), threading.Event()

    def rebuild():
        with first.new_uow() as uow:
            maintain.rebuild(uow.session, TZ, first.clock.now())
            rebuilt.set()
            release.wait(60)
            uow.commit()

    builder: list = []

    def apply(session, ids, noticed, tz):
        if threading.current_thread().name != "reader" or not ids:
            return real(session, ids, noticed, tz)
        tries.append(ids)
        if len(tries) == 2:                      # D alone, after its batch failed
            builder.append(_thread("rebuild", rebuild))
            _wait_for_a_lock_wait(first)         # the rebuild waits for D's row, held here
        raise ValueError("cannot count")

    monkeypatch.setattr(catching, "apply", apply)
    reader, read = _thread("reader", lambda: _k01_and_note(second))
    try:
        reader.join(timeout=30)
        assert not reader.is_alive(), "the reader's park waited for the rebuild"
        assert rebuilt.wait(30)
        assert read == {"result": (before, 1)} and _attempts(second) == {d: 1}
    finally:
        release.set()
        reader.join(timeout=30)
        for thread, _out in builder:
            thread.join(timeout=30)
    assert builder[0][1] == {"result": None}
    assert _queued(first) == set()
    _rebuilt_equals_caught_up(first)


def test_a_step_mending_a_case_while_its_retry_fails_leaves_it_due(two, monkeypatch, clock):
    """A scheduler's retry of parked D fails on D's old state while a step that mends D waits
    for D's queue row. The parking commits with the claim, before the step's queue write, so
    that write makes D due again: the mend is counted at the next run, not after the delay."""
    first, second, cases = two
    d = cases["D"].id
    real = catching.apply
    holding, go = threading.Event(), threading.Event()

    def apply(session, ids, noticed, tz):
        if d in ids and session.scalar(select(Case.second_complaint).where(Case.id == d)):
            if threading.current_thread().name == HELD:
                holding.set()                          # D's queue row locked by the retry
                go.wait(30)
            raise ValueError("cannot count")           # only D's old state fails
        return real(session, ids, noticed, tz)

    monkeypatch.setattr(catching, "apply", apply)
    _change(first, d, second_complaint=True)
    assert catch_up(first) == 0 and _attempts(first) == {d: 1}          # D parked
    clock.advance(seconds=31)
    runner, ran = _thread(HELD, lambda: catching.retry_parked(first))
    assert holding.wait(30)
    step, stepped = _thread("step", lambda: _change(second, d, second_complaint=False))
    _wait_for_a_lock_wait(first)                       # the step waits for D's queue row
    go.set()
    runner.join(timeout=30)
    step.join(timeout=30)
    assert ran == {"result": 0} and stepped == {"result": None}
    assert _attempts(first) == {d: 0}                  # due again, not parked for 60 s
    assert catch_up(first) == 1 and _queued(first) == set()
    _rebuilt_equals_caught_up(first)
