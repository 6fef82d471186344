"""The cockpit's rollups: a case received, closed, rated or reopened moves the right rows once
caught up (and nothing when the transaction that changed it rolls back); a rebuild from the
cases equals what the changes built; and the figures read from the rollups equal the figures
counted from the cases, for every scope and for periods that do and do not align with months.
The rows are read after a catch-up, as the cockpit reads them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.district_fixtures import build_district
from tests.factories import seed
from tests.kpi_fixtures import add_case, add_order, at, build_month
from workflows.core.actors import Actor
from workflows.models import Case, WorkOrder
from workflows.models.rollups import (
    NOT_CLOSED,
    RollupBoard,
    RollupCase,
    RollupNotice,
    RollupOpen,
    RollupOrder,
    RollupPlace,
)
from workflows.models.scheduling import SupervisionNotice
from workflows.reports import cockpit, kpis, rollup_reads
from workflows.reports import kpi_cases as kc
from workflows.rollups import maintain
from workflows.rollups.catch_up import catch_up

TZ = "Asia/Shanghai"
TABLES = (RollupCase, RollupOpen, RollupOrder, RollupPlace, RollupBoard, RollupNotice)
SUPERVISOR = Actor(type="user", id="0", username="t", roles=frozenset({"supervisor"}),
                   department_id=None, unit_path=None)


@pytest.fixture
def month(services):
    seed(services)
    district = build_district(services)
    return district, build_month(services, district)


def _rows(services) -> dict[str, set[tuple]]:
    """Every rollup row with a non-zero measure (floats rounded)."""
    catch_up(services)
    out = {}
    with services.session_factory() as s:
        for model in TABLES:
            table = model.__table__
            rows = set()
            for row in s.execute(select(table)):
                values = tuple(round(v, 6) if isinstance(v, float) else v for v in row)
                measures = [v for c, v in zip(table.c, values, strict=True)
                            if not c.primary_key and c.name != "place_path"]
                if any(measures):
                    rows.add(values)
            out[model.__tablename__] = rows
    return out


def _case_row(services, grain, day, category="neighbour"):
    catch_up(services)
    with services.session_factory() as s:
        rows = s.execute(select(RollupCase).where(
            RollupCase.grain == grain, RollupCase.day == day,
            RollupCase.category == category)).scalars().all()
        return {n: sum(getattr(r, n) for r in rows)
                for n in ("received", "closed", "counted", "resolved", "rated", "satisfied")}


def test_a_rebuild_equals_what_the_changes_built(services, month):
    built = _rows(services)
    assert built["rollup_case"] and built["rollup_order"]
    with services.new_uow() as uow:
        counts = maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert counts["cases"] == 7                                  # E is a duplicate
    assert _rows(services) == built


def test_received_closed_rated_and_reopened_move_the_rows(services, month):
    district, _cases = month
    april = date(2025, 4, 1)
    before = _case_row(services, "m", april)
    with services.new_uow() as uow:
        case = add_case(uow.session, district, "CD-XF-G2", "2025-04-02 09:00")
        uow.commit()
        case_id = case.id
    assert _case_row(services, "m", april)["received"] == before["received"] + 1
    assert _case_row(services, "d", date(2025, 4, 2))["received"] == 1

    with pytest.raises(RuntimeError), services.new_uow() as uow:   # rolled back: no trace
        row = uow.session.get(Case, case_id)
        row.status, row.closed_at, row.outcome = "closed", at("2025-04-09 09:00"), "R1"
        uow.flush()
        raise RuntimeError("the step failed")
    assert _case_row(services, "m", april)["closed"] == before["closed"]

    with services.new_uow() as uow:                                 # closed, not yet rated
        row = uow.session.get(Case, case_id)
        row.status, row.closed_at, row.outcome = "closed", at("2025-04-09 09:00"), "R1"
        uow.commit()
    after = _case_row(services, "d", date(2025, 4, 9))
    assert (after["closed"], after["counted"], after["resolved"], after["rated"]) == (1, 1, 1, 0)

    with services.new_uow() as uow:                                 # the rating comes in
        uow.session.get(Case, case_id).satisfaction = "dissatisfied"
        uow.commit()
    after = _case_row(services, "d", date(2025, 4, 9))
    assert (after["resolved"], after["rated"], after["satisfied"]) == (0, 1, 0)

    with services.session_factory() as s:
        closed_on = s.scalar(select(RollupOpen.closed).where(
            RollupOpen.grain == "d", RollupOpen.day == date(2025, 4, 2), RollupOpen.cases > 0))
    assert closed_on == date(2025, 4, 9)
    with services.new_uow() as uow:                                 # reopened: not closed
        row = uow.session.get(Case, case_id)
        row.status, row.closed_at = "reopened", None
        uow.commit()
    assert _case_row(services, "d", date(2025, 4, 9))["closed"] == 0
    with services.session_factory() as s:
        closed_on = s.scalar(select(RollupOpen.closed).where(
            RollupOpen.grain == "d", RollupOpen.day == date(2025, 4, 2), RollupOpen.cases > 0))
    assert closed_on == NOT_CLOSED


def test_an_order_signed_off_late_moves_the_unit_row(services, month):
    district, cases = month
    unit = district.units["CD-GA"]
    with services.new_uow() as uow:
        order = add_order(uow.session, uow.session.get(Case, cases["D"].id), unit,
                          "2025-04-03 10:00")
        uow.commit()
        order_id = order.id

    def unit_row():
        catch_up(services)
        with services.session_factory() as s:
            return s.execute(select(RollupOrder.dispatched, RollupOrder.signed,
                                    RollupOrder.signed_on_time).where(
                RollupOrder.grain == "m", RollupOrder.day == date(2025, 4, 1),
                RollupOrder.unit_id == unit)).one()
    assert tuple(unit_row()) == (1, 0, 0)
    with services.new_uow() as uow:
        from workflows.models import WorkOrder
        uow.session.get(WorkOrder, order_id).accepted_at = at("2025-04-05 10:00")   # 48 h
        uow.commit()
    assert tuple(unit_row()) == (1, 1, 0)


PERIODS = [(date(2025, 3, 1), date(2025, 3, 31)), (date(2025, 1, 1), date(2025, 12, 31)),
           (date(2025, 3, 3), date(2025, 3, 9)), (date(2025, 2, 10), date(2025, 3, 20)),
           (date(2025, 2, 10), date(2025, 4, 30)), (date(2024, 12, 20), date(2025, 12, 31))]


def test_a_period_reads_whole_years_whole_months_and_the_days_at_its_ends():
    assert rollup_reads.spans(date(2024, 12, 20), date(2026, 2, 3)) == [
        ("d", date(2024, 12, 20), date(2024, 12, 31)), ("y", date(2025, 1, 1), date(2025, 1, 1)),
        ("m", date(2026, 1, 1), date(2026, 1, 1)), ("d", date(2026, 2, 1), date(2026, 2, 3))]
    assert rollup_reads.spans(date(2025, 1, 1), date(2025, 2, 28), years=False) == [
        ("m", date(2025, 1, 1), date(2025, 1, 1)), ("m", date(2025, 2, 1), date(2025, 2, 1))]


@pytest.mark.parametrize(("first", "last"), PERIODS)
@pytest.mark.parametrize(("place", "unit"), [(None, None), ("QS", None), ("CD", None),
                                             ("CD-XF", None), (None, "QS-JDTJ"),
                                             ("QS", "QS-XZ")])
def test_figures_from_the_rollups_equal_the_figures_from_the_cases(services, month, first, last,
                                                                   place, unit):
    district, _cases = month
    scope = kc.Scope(district.paths[place] if place else None,
                     district.units[unit] if unit else None)
    period = kc.Period.of(first, last, TZ)
    with services.new_uow() as uow:
        s = uow.session
        assert rollup_reads.usable(s, scope)
        rolled = kpis._rollup_figures(s, period, scope)
        direct = kpis._case_figures(s, period, scope)
        direct.update(kpis._order_figures(s, period, scope))
        for kpi, figure in direct.items():
            got = rolled[kpi]
            assert (got.numerator or 0) == pytest.approx(figure.numerator or 0), kpi
            assert (got.denominator, got.value) == (figure.denominator, figure.value), kpi
        trends = cockpit.trends(s, period, scope)
        spots = cockpit.hotspots(s, period, scope)
        ranks = cockpit.ranking(s, period, scope)
        board = cockpit.board(s, SUPERVISOR, scope)
    # the same pages with the rollups marked unbuilt count the cases directly
    with services.new_uow() as uow:
        uow.session.execute(maintain.RollupState.__table__.update().values(built=0))
        assert not rollup_reads.usable(uow.session, scope)
        assert cockpit.trends(uow.session, period, scope) == trends
        assert cockpit.hotspots(uow.session, period, scope) == spots
        assert cockpit.ranking(uow.session, period, scope) == ranks
        assert cockpit.board(uow.session, SUPERVISOR, scope) == board
        uow.session.rollback()


def test_a_scope_below_the_community_level_counts_the_cases(services, month):
    district, _cases = month
    with services.new_uow() as uow:
        assert not rollup_reads.usable(uow.session, kc.Scope(district.paths["CD-XF-G2"]))
        assert rollup_reads.usable(uow.session, kc.Scope(district.paths["CD-XF"]))


def test_a_database_with_cases_before_the_rollups_reads_the_cases_until_rebuilt(services, month):
    with services.new_uow() as uow:
        uow.session.execute(maintain.RollupState.__table__.update().values(built=0))
        uow.commit()
    with services.new_uow() as uow:
        assert not rollup_reads.usable(uow.session, kc.Scope())
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    with services.session_factory() as s:
        assert rollup_reads.usable(s, kc.Scope())
        assert s.scalar(select(func.count()).select_from(RollupCase)) > 0


def _notice(session, case_id, unit, when, level=1):
    session.add(SupervisionNotice(case_id=case_id, department_id=unit, level=level,
                                  kind="supervision", reason="超期", source="sla:resolution",
                                  issued_at=at(when), issued_by="scheduler",
                                  dedupe_key=f"t-{case_id}-{unit}-{when}-{level}"))


def _board(services, scope=None):
    catch_up(services)
    with services.new_uow() as uow:
        return cockpit.board(uow.session, SUPERVISOR, scope or kc.Scope())


def _direct(services, fn, *args):
    with services.new_uow() as uow:
        uow.session.execute(maintain.RollupState.__table__.update().values(built=0))
        try:
            return fn(uow.session, *args)
        finally:
            uow.session.rollback()


def test_the_live_board_follows_lights_notices_and_closure(services, month):
    district, cases = month
    h = cases["H"].id              # open, red risk, one yellow order, a level-1 notice
    board = _board(services)
    assert board["grid"] == {("red", "yellow"): 1, ("blue", "green"): 1}   # H and F
    assert board["levels"] == {0: 0, 1: 1, 2: 0, 3: 0}
    with services.new_uow() as uow:                  # the SLA sweep turns the light red
        order = uow.session.scalars(select(WorkOrder).where(WorkOrder.case_id == h)).one()
        order.light = "red"
        uow.commit()
    assert _board(services)["grid"][("red", "red")] == 1
    with pytest.raises(RuntimeError), services.new_uow() as uow:   # rolled back: no trace
        _notice(uow.session, h, district.units["QS-JDTJ"], "2025-03-28 10:00", level=3)
        uow.flush()
        raise RuntimeError("the sweep failed")
    assert _board(services)["levels"][3] == 0
    with services.new_uow() as uow:                  # the ladder's top rung
        _notice(uow.session, h, district.units["QS-JDTJ"], "2025-03-28 10:00", level=3)
        uow.commit()
    board = _board(services)
    assert board["levels"] == {0: 0, 1: 0, 2: 0, 3: 1}
    assert board == _direct(services, cockpit.board, SUPERVISOR, kc.Scope())
    with services.new_uow() as uow:                  # closed: off the board
        row = uow.session.get(Case, h)
        row.status, row.closed_at, row.outcome = "closed", at("2025-03-29 09:00"), "R1"
        uow.commit()
    board = _board(services)
    assert board["grid"] == {("blue", "green"): 1} and board["red_total"] == 0
    assert board == _direct(services, cockpit.board, SUPERVISOR, kc.Scope())


NOTICE_PERIODS = [(date(2025, 3, 1), date(2025, 3, 31)), (date(2025, 3, 23), date(2025, 4, 30)),
                  (date(2025, 3, 26), date(2025, 4, 1)), (date(2025, 4, 1), date(2025, 4, 30)),
                  (date(2025, 1, 1), date(2025, 12, 31)), (date(2025, 3, 24), date(2025, 3, 24))]


def test_supervision_notices_count_each_case_once_per_unit_and_period(services, month):
    district, cases = month
    x, y = district.units["QS-JDTJ"], district.units["QS-XZ"]
    with services.new_uow() as uow:      # H had one notice to x on 03-22
        for unit, when in ((x, "2025-03-22 15:00"), (x, "2025-03-25 10:00"),
                           (x, "2025-04-02 10:00"), (y, "2025-04-02 11:00"),
                           (y, "2025-04-03 10:00")):
            _notice(uow.session, cases["H"].id, unit, when)
        _notice(uow.session, cases["A"].id, x, "2025-03-27 10:00", level=0)
        uow.commit()
    catch_up(services)
    for first, last in NOTICE_PERIODS:
        period = kc.Period.of(first, last, TZ)
        for path in (None, district.paths["QS"], district.paths["CD"]):
            with services.new_uow() as uow:
                ranks = cockpit.ranking(uow.session, period, kc.Scope(path))
            direct = _direct(services, cockpit.ranking, period, kc.Scope(path))
            assert ranks == direct, (first, last, path)
    with services.new_uow() as uow:
        rows = {r["unit_id"]: r["notices"] for r in cockpit.ranking(
            uow.session, kc.Period.of(date(2025, 3, 1), date(2025, 4, 30), TZ), kc.Scope())}
    assert (rows[x], rows[y]) == (2, 1)      # H and A to x; H to y, once each
    built = _rows(services)
    with services.new_uow() as uow:
        maintain.rebuild(uow.session, TZ, services.clock.now())
        uow.commit()
    assert _rows(services) == built
