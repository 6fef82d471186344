"""The rollups are caught up, not kept by the step: a change queues its case (the rollup rows
stay as they were), the cockpit catches up before it reads and shows the change, a catch-up with
nothing queued sends one statement, a rebuild empties the queue, and the scheduler runs the
catch-up. A case whose apply fails is parked while the rest are applied, retried later with a
growing delay, and noted by the cockpit; a refused reader catches nothing up; a reader applies
at most its bound. (Concurrent catch-ups: tests/postgres.)"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.exc import OperationalError

from tests.conftest import PG
from tests.district_fixtures import build_district
from tests.factories import seed
from tests.kpi_fixtures import PERSONAL, at, build_month, failing_facts
from tests.workflows.test_rollups import SUPERVISOR, TZ, _direct, _notice, _rows
from tests.workflows.test_step_statements import counted
from workflows.access.policy import Denied
from workflows.channels import health
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput
from workflows.models import Case
from workflows.models.rollups import RollupCase, RollupFacts, RollupPending
from workflows.reports import cockpit
from workflows.reports import kpi_cases as kc
from workflows.rollups import catch_up as catching
from workflows.rollups import maintain
from workflows.rollups.catch_up import catch_up
from workflows.scheduler import jobs

MARCH = (date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def month(services):
    seed(services)
    district = build_district(services)
    return district, build_month(services, district)


def _queued(services) -> dict[int, bool]:
    with services.session_factory() as s:
        return {row.case_id: row.noticed for row in s.scalars(select(RollupPending))}


def _closed_in_march(services) -> int:
    """The rollup rows as stored (no catch-up)."""
    with services.session_factory() as s:
        return sum(s.scalars(select(RollupCase.closed).where(
            RollupCase.grain == "m", RollupCase.day == date(2025, 3, 1))))


def _close(services, case_id, when="2025-03-25 09:00"):
    with services.new_uow() as uow:
        row = uow.session.get(Case, case_id)
        row.status, row.closed_at, row.outcome = "closed", at(when), "R1"
        row.satisfaction = "satisfied"
        uow.commit()


def _k01(services) -> tuple:
    figures = {f.kpi.id: f for f in cockpit.overview(services, SUPERVISOR, *MARCH).figures}
    return figures["K-01"].numerator, figures["K-01"].denominator, figures["K-01"].value


def test_a_change_is_queued_and_the_cockpit_shows_it(services, month):
    _district, cases = month
    assert _k01(services) == (1, 3, 33.3)
    closed = _closed_in_march(services)
    _close(services, cases["H"].id)
    assert _queued(services) == {cases["H"].id: False}
    assert _closed_in_march(services) == closed           # the step left the rollups alone
    assert _k01(services) == (2, 4, 50.0)                  # the cockpit caught up first
    assert _queued(services) == {}
    assert _closed_in_march(services) == closed + 1


def test_a_notice_keeps_its_case_marked_until_caught_up(services, month):
    district, cases = month
    h, x = cases["H"].id, district.units["QS-JDTJ"]
    with services.new_uow() as uow:
        _notice(uow.session, h, x, "2025-03-25 10:00", level=2)
        uow.commit()
    with services.new_uow() as uow:                        # a later change without a notice
        uow.session.get(Case, h).risk_level = "orange"
        uow.commit()
    assert _queued(services) == {h: True}
    catch_up(services)
    with services.new_uow() as uow:
        board = cockpit.board(uow.session, SUPERVISOR, kc.Scope())
    assert board["levels"] == {0: 0, 1: 0, 2: 1, 3: 0}
    assert board == _direct(services, cockpit.board, SUPERVISOR, kc.Scope())


def test_a_transaction_changing_three_cases_queues_them_in_one_statement(services, month,
                                                                         db_engine):
    _district, cases = month
    with counted(db_engine) as statements, services.new_uow() as uow:
        for letter in ("A", "D", "H"):
            uow.session.get(Case, cases[letter].id).second_complaint = True
        uow.commit()
    assert [s for s in statements if "rollup" in s] == [
        s for s in statements if s.lstrip().startswith("INSERT INTO rollup_pending")]
    assert len([s for s in statements if "rollup" in s]) == 1
    assert set(_queued(services)) == {cases[x].id for x in ("A", "D", "H")}


def test_the_queue_write_is_compiled_once_whatever_the_number_of_cases(services, month,
                                                                         db_engine):
    """The step's queue statement is one cached statement run with a row of values per case
    (a statement with many VALUES rows has no cache key: it was compiled again at each step)."""
    _district, cases = month
    hits: list = []

    def note(_conn, _cursor, statement, _params, context, _many) -> None:
        if statement.lstrip().startswith("INSERT INTO rollup_pending"):
            hits.append(context.cache_hit)

    event.listen(db_engine, "before_cursor_execute", note)
    try:
        for letters in ("A", "DH", "ABC"):
            _second_complaints(services, cases, letters)
    finally:
        event.remove(db_engine, "before_cursor_execute", note)
    assert len(hits) == 3 and hits[1:] == [CACHE_HIT, CACHE_HIT]
    assert set(_queued(services)) == {cases[x].id for x in "ABCDH"}


def test_a_catch_up_with_nothing_queued_sends_only_the_claim(services, month, db_engine):
    with counted(db_engine) as statements:
        assert catch_up(services) == 0
    assert len(statements) == 1, statements
    assert statements[0].lstrip().startswith("DELETE FROM rollup_pending")


def test_catch_up_goes_batch_by_batch(services, month):
    _district, cases = month
    built = _rows(services)
    _second_complaints(services, cases, "ADH")
    assert len(_queued(services)) == 3
    assert catch_up(services, batch=2, rounds=1) == 2      # one batch of two
    assert len(_queued(services)) == 1
    assert catch_up(services, batch=2) == 1
    caught_up = _rows(services)
    assert caught_up != built
    with services.new_uow() as uow:
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert _rows(services) == caught_up


# -- a case whose apply fails -------------------------------------------------------------------
def _second_complaints(services, cases, letters):
    with services.new_uow() as uow:
        for letter in letters:
            row = uow.session.get(Case, cases[letter].id)
            row.second_complaint = not row.second_complaint
        uow.commit()


@pytest.fixture
def failing(monkeypatch):
    return failing_facts(monkeypatch)


def _parked(services) -> dict[int, tuple]:
    with services.session_factory() as s:
        return {r.case_id: (r.attempts, r.retry_at, r.last_error) for r in s.scalars(
            select(RollupPending).where(RollupPending.attempts > 0))}


def test_a_case_whose_apply_fails_is_parked_and_the_rest_are_applied(services, month, failing,
                                                                     caplog, db_engine):
    _district, cases = month
    a, d, h = (cases[x].id for x in "ADH")
    _second_complaints(services, cases, "ADH")
    failing.add(d)
    now = services.clock.now()
    assert catch_up(services, batch=2) == 2                 # A and H; D alone fails
    parked = _parked(services)
    assert set(_queued(services)) == set(parked) == {d}
    attempts, retry_at, error = parked[d]
    assert attempts == 1 and retry_at == now + timedelta(seconds=30)
    assert error.startswith("ValueError at kpi_fixtures.py:")
    assert f"case {d} parked" in caplog.text
    assert PERSONAL not in caplog.text and PERSONAL not in error
    with services.session_factory() as s:                  # A and H are in the rollups
        stored = {i: json.loads(f) for i, f in s.execute(
            select(RollupFacts.case_id, RollupFacts.facts).where(RollupFacts.case_id.in_([a, h])))}
        assert stored == maintain._facts_of(s, [a, h], ZoneInfo(TZ))
    failing.clear()
    with counted(db_engine) as statements:                 # the queue is not held up by D
        assert catch_up(services) == 0
    assert len(statements) == 1
    assert set(_queued(services)) == {d}


def test_a_parked_case_is_retried_alone_with_a_doubling_delay(services, month, failing, clock):
    _district, cases = month
    d = cases["D"].id
    _second_complaints(services, cases, "D")
    failing.add(d)
    assert catch_up(services) == 0
    assert catching.retry_parked(services) == 0              # not due yet
    assert _parked(services)[d][0] == 1
    clock.advance(seconds=31)
    assert catching.retry_parked(services) == 0              # due, fails again
    attempts, retry_at, _error = _parked(services)[d]
    assert attempts == 2 and retry_at == services.clock.now() + timedelta(seconds=60)
    failing.clear()
    clock.advance(seconds=61)
    job = jobs.build_scheduler(services).get_job("rollups.catch_up")
    assert job.func(*job.args) == 1                          # the scheduler's run retries it
    assert _queued(services) == {}
    caught_up = _rows(services)
    with services.new_uow() as uow:
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert _rows(services) == caught_up


def test_a_change_to_a_parked_case_makes_it_due_at_once(services, month, failing, clock):
    _district, cases = month
    d = cases["D"].id
    _second_complaints(services, cases, "D")
    failing.add(d)
    catch_up(services)
    clock.advance(seconds=31)
    catching.retry_parked(services)                          # failed twice: next try in 60 s
    assert _parked(services)[d][0] == 2
    _close(services, d, "2025-03-27 09:00")                  # a change that does not mend it
    assert _parked(services) == {} and set(_queued(services)) == {d}
    assert catch_up(services) == 0                           # tried at once, parked afresh
    attempts, retry_at, _error = _parked(services)[d]
    assert attempts == 1 and retry_at == services.clock.now() + timedelta(seconds=30)
    failing.clear()
    _close(services, d, "2025-03-28 09:00")                  # the change that mends it
    top = cockpit.overview(services, SUPERVISOR, *MARCH)     # counted by the next catch-up
    assert top.not_counted == 0 and _queued(services) == {}
    _rebuild_changes_nothing(services)


def _rebuild_changes_nothing(services):
    caught_up = _rows(services)
    with services.new_uow() as uow:
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert _rows(services) == caught_up


# -- a race lost is not a failure -------------------------------------------------------------
@pytest.fixture
def racing(monkeypatch) -> set[int]:
    """From now on applying a batch holding a case of the returned set loses a race (a deadlock,
    as PostgreSQL reports it); empty the set to end the race."""
    cases: set[int] = set()
    real = catching.apply

    def apply(session, ids, noticed, tz):
        if cases & set(ids):
            raise OperationalError("UPDATE rollup_case", {}, Exception("deadlock detected"))
        return real(session, ids, noticed, tz)

    monkeypatch.setattr(catching, "apply", apply)
    return cases


def test_a_batch_that_loses_a_race_stays_queued_unparked_for_the_next_run(services, month,
                                                                          racing):
    _district, cases = month
    ids = {cases[x].id for x in "ADH"}
    _second_complaints(services, cases, "ADH")
    racing.add(cases["D"].id)
    assert catch_up(services) == 0                           # the run stops at the lost batch
    assert _parked(services) == {} and set(_queued(services)) == ids
    top = cockpit.overview(services, SUPERVISOR, *MARCH)     # a reader reads without them
    assert top.not_counted == 3 and _parked(services) == {}
    racing.clear()
    assert catch_up(services) == 3                           # the next run, without a delay
    _rebuild_changes_nothing(services)


def test_a_parked_case_losing_a_race_on_its_retry_keeps_its_attempts_and_its_turn(
        services, month, failing, racing, clock):
    _district, cases = month
    d = cases["D"].id
    _second_complaints(services, cases, "D")
    failing.add(d)
    catch_up(services)
    parked = _parked(services)
    clock.advance(seconds=31)
    failing.clear()
    racing.add(d)
    assert catching.retry_parked(services) == 0
    assert _parked(services) == parked                       # no attempt counted, still due
    racing.clear()
    assert catching.retry_parked(services) == 1              # the next run, at the same time
    assert _queued(services) == {}


def test_the_cockpit_shows_figures_without_a_parked_case_and_says_so(services, month, failing):
    _district, cases = month
    h = cases["H"].id
    failing.add(h)
    _close(services, h)                                      # H closed and resolved: not counted
    top = cockpit.overview(services, SUPERVISOR, *MARCH)
    k01 = {f.kpi.id: f for f in top.figures}["K-01"]
    assert (k01.numerator, k01.denominator, top.not_counted) == (1, 3, 1)
    failing.clear()
    catching.retry_parked(services, limit=0)                 # nothing tried: not due
    assert cockpit.overview(services, SUPERVISOR, *MARCH).not_counted == 1


# -- who catches up and how much --------------------------------------------------------------
NOBODY = Actor(type="user", id="9", username="n", roles=frozenset({"mediator"}),
               department_id=None, unit_path=None)


@pytest.mark.parametrize("who, args, error", [
    (NOBODY, (), Denied),                                    # no cockpit role
    (SUPERVISOR, ("NOWHERE",), InvalidInput),                # an unknown place
    (SUPERVISOR, (None, "NOUNIT"), InvalidInput),            # an unknown unit
])
def test_a_refused_reader_catches_nothing_up(services, month, who, args, error):
    _district, cases = month
    _close(services, cases["H"].id)
    queued = _queued(services)
    for read in (cockpit.overview, cockpit.page, cockpit.ranking_page):
        with pytest.raises(error):
            read(services, who, *MARCH, *args)
    with pytest.raises(InvalidInput):                        # a reversed period
        cockpit.page(services, SUPERVISOR, MARCH[1], MARCH[0])
    assert _queued(services) == queued


def test_a_reader_out_of_its_subtree_catches_nothing_up(services, month):
    district, cases = month
    _close(services, cases["H"].id)
    township = Actor(type="user", id="8", username="q", roles=frozenset({"leader"}),
                     department_id=None, unit_path=district.paths["QS"])
    with pytest.raises(Denied):
        cockpit.overview(services, township, *MARCH, "CD")
    assert set(_queued(services)) == {cases["H"].id}


def test_a_reader_applies_at_most_its_bound_and_notes_the_rest(services, month, monkeypatch):
    _district, cases = month
    monkeypatch.setattr(catching, "BATCH", 2)
    monkeypatch.setattr(catching, "READER_ROUNDS", 2)
    _second_complaints(services, cases, "ABCDFGH")
    top = cockpit.overview(services, SUPERVISOR, *MARCH)
    assert top.not_counted == 3 and len(_queued(services)) == 3     # 2 batches of 2 applied
    assert catch_up(services) == 3                           # the scheduler does the rest
    assert cockpit.overview(services, SUPERVISOR, *MARCH).not_counted == 0


def test_a_rebuild_empties_the_queue_and_covers_it(services, month):
    _district, cases = month
    _close(services, cases["H"].id)
    assert _queued(services)
    with services.new_uow() as uow:
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert _queued(services) == {}
    assert _closed_in_march(services) == 5                  # A, B, C, D and H (not E)


def test_the_scheduler_catches_up_at_a_short_interval(services, month):
    _district, cases = month
    _close(services, cases["H"].id)
    scheduler = jobs.build_scheduler(services)
    job = scheduler.get_job("rollups.catch_up")
    assert job.trigger.interval.total_seconds() == services.settings.rollup_interval
    assert job.func(*job.args) == 1
    assert _queued(services) == {}


def test_a_catch_up_sends_as_many_statements_for_seven_cases_as_for_one(services, month,
                                                                        db_engine):
    _district, cases = month

    def second_complaints(letters):
        _second_complaints(services, cases, letters)
        with counted(db_engine) as statements:
            assert catch_up(services) == len(letters)
        return statements

    one = second_complaints("A")
    seven = second_complaints("ABCDFGH")          # E, a duplicate, counts nowhere
    # the claim, the facts' lock, the joined read, the upsert of rollup_case, the facts
    assert len(one) == len(seven) == 5, "\n".join(seven)


@pytest.mark.skipif(PG, reason="SQLite's write lock (PostgreSQL: tests/postgres)")
def test_a_reader_during_a_rebuild_on_sqlite_waits_briefly_and_notes_the_queue(
        committed_services, monkeypatch):
    """A rebuild holds SQLite's write lock for its whole run: a reader's catch-up gives up
    after READER_WAIT (not the 30 s busy timeout), reads the figures as last committed and
    notes the queued case; the connection's busy timeout is set back afterwards."""
    # the rebuild holds the lock until the reader has given up, whatever the wait: the test
    # need not sit out the production 2 s
    monkeypatch.setattr(catching, "READER_WAIT", timedelta(milliseconds=200))
    services = committed_services
    seed(services)
    cases = build_month(services, build_district(services))
    _close(services, cases["H"].id)
    before = _k01(services)                     # the reader's catch-up on its own connection
    assert before == (2, 4, 50.0) and _queued(services) == {}
    _close(services, cases["F"].id)             # F (reopened, received in March) closed again
    out: dict = {}

    def read():
        overview = cockpit.overview(services, SUPERVISOR, *MARCH)
        k01 = {f.kpi.id: f for f in overview.figures}["K-01"]
        out["read"] = (k01.numerator, k01.denominator, k01.value), overview.not_counted

    with services.new_uow() as rebuild:
        maintain.rebuild(rebuild.session, TZ, services.clock.now())
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=20)     # a bound for a stuck test, below the busy timeout
        try:
            assert not reader.is_alive(), "the reader waited for the rebuild"
            assert out == {"read": (before, 1)}
        finally:
            rebuild.commit()
    reader.join(timeout=60)
    assert _k01(services) == (3, 5, 60.0) and _queued(services) == {}
    pooled = [services.db.connect() for _ in range(5)]      # the reader's connection among them
    try:
        timeouts = {c.exec_driver_sql("PRAGMA busy_timeout").scalar() for c in pooled}
    finally:
        for connection in pooled:
            connection.close()
    assert timeouts == {30000}


@pytest.mark.skipif(PG, reason="SQLite's write lock (PostgreSQL: tests/postgres)")
def test_the_health_page_and_a_drill_down_do_not_wait_for_a_rebuild_on_sqlite(committed_services):
    """Pages that only read (the interface health page with the rollup queue, the cockpit's
    drill-down to its cases) read without SQLite's write lock, which a rebuild holds."""
    services = committed_services
    seed(services)
    cases = build_month(services, build_district(services))
    _close(services, cases["H"].id)           # queued: the health page counts it
    out: dict = {}

    def read():
        out["queue"] = health.health_page(services.new_uow(), SUPERVISOR)["rollups"]["waiting"]
        out["drill"] = cockpit.drill_scope(services, SUPERVISOR, cockpit.Drill("K-01", *MARCH))
        out["done"] = True

    with services.new_uow() as rebuild:
        maintain.rebuild(rebuild.session, TZ, services.clock.now())
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=20)     # a bound for a stuck test, below the busy timeout
        try:
            assert not reader.is_alive(), "a page waited for the rebuild"
            assert out["queue"] == 1 and out["done"]
        finally:
            rebuild.commit()
    reader.join(timeout=60)
