"""The rollups are caught up, not kept by the step: a change queues its case (the rollup rows
stay as they were), the cockpit catches up before it reads and shows the change, a catch-up with
nothing queued sends one statement, a batch whose apply fails stays queued, a rebuild empties the
queue, and the scheduler runs the catch-up. (Concurrent catch-ups: tests/postgres.)"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.district_fixtures import build_district
from tests.factories import seed
from tests.kpi_fixtures import at, build_month
from tests.workflows.test_rollups import SUPERVISOR, TZ, _direct, _notice, _rows
from tests.workflows.test_step_statements import counted
from workflows.models import Case
from workflows.models.rollups import RollupCase, RollupPending
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


def test_a_catch_up_with_nothing_queued_sends_only_the_claim(services, month, db_engine):
    with counted(db_engine) as statements:
        assert catch_up(services) == 0
    assert len(statements) == 1, statements
    assert statements[0].lstrip().startswith("DELETE FROM rollup_pending")


def test_catch_up_goes_batch_by_batch_and_a_failed_batch_stays_queued(services, month,
                                                                        monkeypatch):
    _district, cases = month
    built = _rows(services)
    for letter in ("A", "D", "H"):
        with services.new_uow() as uow:
            uow.session.get(Case, cases[letter].id).second_complaint = True
            uow.commit()
    queued = _queued(services)
    assert len(queued) == 3

    def broken(*_args):
        raise RuntimeError("the apply failed")

    with monkeypatch.context() as patch:
        patch.setattr(catching, "apply", broken)
        with pytest.raises(RuntimeError):
            catch_up(services, batch=2)
    assert _queued(services) == queued
    assert catch_up(services, batch=2, rounds=1) == 2      # one batch of two
    assert len(_queued(services)) == 1
    assert catch_up(services, batch=2) == 1
    caught_up = _rows(services)
    assert caught_up != built
    with services.new_uow() as uow:
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert _rows(services) == caught_up


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
        with services.new_uow() as uow:
            for letter in letters:
                row = uow.session.get(Case, cases[letter].id)
                row.second_complaint = not row.second_complaint
            uow.commit()
        with counted(db_engine) as statements:
            assert catch_up(services) == len(letters)
        return statements

    one = second_complaints("A")
    seven = second_complaints("ABCDFGH")          # E, a duplicate, counts nowhere
    # the claim, the facts' lock, the joined read, the upsert of rollup_case, the facts
    assert len(one) == len(seven) == 5, "\n".join(seven)
