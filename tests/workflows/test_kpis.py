"""KPI formulas against the hand-counted month of tests/kpi_fixtures.py, target selection by
date and place, drill-down counts equal to the figures, scope and empty periods."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.district_fixtures import build_district
from tests.factories import seed
from tests.kpi_fixtures import build_month
from workflows.core.actors import Actor
from workflows.models import Case, KpiTarget, WorkOrder
from workflows.models.scheduling import WorkOrderSla
from workflows.reports import cockpit, kpis
from workflows.reports import kpi_cases as kc
from workflows.reports.targets import TargetView, target_for
from workflows.rollups.catch_up import catch_up

TZ = "Asia/Shanghai"
MARCH = kc.Period.of(date(2025, 3, 1), date(2025, 3, 31), TZ)


@pytest.fixture
def month(services):
    seed(services)
    district = build_district(services)
    return district, build_month(services, district)


def _figures(services, period=MARCH, scope=kc.Scope(), codes=()):
    catch_up(services)   # as the cockpit does before it reads
    working = services.calendar.calendar.is_working_day
    with services.new_uow() as uow:
        return {f.kpi.id: f for f in kpis.figures(uow.session, period, scope,
                                                   is_working_day=working, scope_codes=codes)}


def test_case_kpis_match_the_hand_counted_month(services, month):
    f = _figures(services)
    assert (f["K-01"].numerator, f["K-01"].denominator, f["K-01"].value) == (1, 3, 33.3)
    assert (f["K-02"].numerator, f["K-02"].denominator, f["K-02"].value) == (2, 3, 66.7)
    assert (f["K-03"].numerator, f["K-03"].denominator, f["K-03"].value) == (1, 4, 25.0)
    assert f["K-08"].value == 12.5
    assert (f["K-09"].numerator, f["K-09"].denominator, f["K-09"].value) == (4, 6, 66.7)


def test_work_order_kpis_match_the_hand_counted_month(services, month):
    f = _figures(services)
    assert (f["K-05"].denominator, f["K-05"].value) == (2, 25.0)
    assert (f["K-06"].value, f["K-07"].value) == (2.0, 48.0)
    assert (f["K-25"].numerator, f["K-25"].denominator, f["K-25"].value) == (1, 2, 50.0)
    assert (f["K-26"].numerator, f["K-26"].denominator) == (1, 4)
    assert f["K-26"].value == 25.0


def test_citizen_response_counts_working_days(services, month):
    f = _figures(services)["K-04"]
    assert (f.numerator, f.denominator, f.value) == (1, 2, 0.5)
    assert f.extra["within_limit"] == 100.0


def test_previous_period_and_status_against_the_target_of_the_last_day(services, month):
    f = _figures(services)
    assert f["K-01"].previous == 100.0                     # G, closed in February
    assert f["K-01"].target is not None and f["K-01"].target.value == 80.0
    assert f["K-01"].status == "missed"
    assert f["K-08"].status == "no_data"                   # no target: the aim is to reduce it
    assert f["K-11"].status == "no_data"


def test_duplicates_reopened_cases_and_routed_outcomes_stay_out(services, month):
    _district, cases = month
    with services.new_uow() as uow:
        closed = set(uow.session.scalars(select(Case.case_no).where(
            kc.cases_condition("K-03", MARCH, kc.Scope()))))
        k01 = set(uow.session.scalars(select(Case.case_no).where(
            kc.cases_condition("K-01", MARCH, kc.Scope()))))
    assert cases["E"].case_no not in closed             # a duplicate is never a case
    assert cases["F"].case_no not in closed             # reopened: closed once, at its final closure
    assert cases["C"].case_no in closed and cases["C"].case_no not in k01   # R4 outside K-01


def test_a_reopened_case_counts_in_the_period_of_its_final_closure(services, month):
    _district, cases = month
    with services.new_uow() as uow:
        case = uow.session.get(Case, cases["F"].id)
        case.status, case.closed_at = "closed", kc.Period.of(
            date(2025, 4, 2), date(2025, 4, 2), TZ).start
        case.outcome = "R1"
        uow.commit()
    april = kc.Period.of(date(2025, 4, 1), date(2025, 4, 30), TZ)
    assert _figures(services)["K-03"].denominator == 4
    assert _figures(services, april)["K-03"].denominator == 1


@pytest.mark.parametrize("kpi", ["K-01", "K-02", "K-03", "K-04", "K-05", "K-06", "K-07", "K-08",
                                 "K-09", "K-25", "K-26"])
@pytest.mark.parametrize("place", [None, "QS", "CD"])
def test_drill_down_lists_exactly_the_cases_of_the_denominator(services, month, kpi, place):
    district, _cases = month
    scope = kc.Scope(district.paths[place] if place else None)
    figure = _figures(services, scope=scope)[kpi]
    with services.new_uow() as uow:
        listed = uow.session.scalar(select(func.count()).select_from(Case).where(
            kc.cases_condition(kpi, MARCH, scope)))
    if figure.kpi.counts in ("cases", "contacts"):
        assert listed == figure.cases == figure.denominator
        return
    # a work-order figure counts orders; its drill-down lists exactly the cases of those orders
    with services.new_uow() as uow:
        orders = (select(WorkOrder.id, WorkOrder.case_id).join(Case, Case.id == WorkOrder.case_id)
                  .outerjoin(WorkOrderSla, WorkOrderSla.work_order_id == WorkOrder.id)
                  .where(kc.order_kpi_filter(kpi, MARCH), kc.order_scope(scope)).subquery())
        count, cases = uow.session.execute(select(
            func.count(), func.count(func.distinct(orders.c.case_id)))).one()
    assert figure.denominator == count and listed == cases
    if kpi == "K-26" and place is None:
        assert (count, cases) == (4, 3)


def test_a_township_counts_only_its_own_cases(services, month):
    district, _cases = month
    f = _figures(services, scope=kc.Scope(district.paths["QS"]))
    assert (f["K-01"].numerator, f["K-01"].denominator) == (1, 2)      # A, B
    assert f["K-03"].denominator == 2
    assert f["K-01"].previous is None                                  # G is in 城东


def test_a_unit_counts_the_cases_it_leads_and_its_own_orders(services, month):
    district, _cases = month
    f = _figures(services, scope=kc.Scope(None, district.units["QS-XZ"]))
    assert f["K-01"].denominator == 0 and f["K-01"].value is None
    assert (f["K-26"].numerator, f["K-26"].denominator) == (0, 1)      # the co order of A


def test_an_empty_period_has_no_values_and_no_status(services, month):
    empty = kc.Period.of(date(2024, 6, 1), date(2024, 6, 30), TZ)
    for figure in _figures(services, empty).values():
        assert figure.value is None and figure.denominator == 0
        assert figure.status == "no_data"


def test_targets_are_chosen_by_the_last_day_and_the_nearest_place(services, month):
    district, _cases = month
    with services.new_uow() as uow:
        s = uow.session
        assert target_for(s, "K-01", date(2025, 12, 31)).value == 80.0
        assert target_for(s, "K-01", date(2026, 1, 1)).value == 85.0
        assert target_for(s, "K-02", date(2026, 6, 30)).value == 90.0
        assert target_for(s, "K-01", date(2029, 1, 1)) is None          # plan ends in 2028
        assert target_for(s, "K-11", date(2024, 12, 31)) is None        # from 2025 on
        s.add(KpiTarget(kpi="K-01", scope="QS", valid_from=date(2025, 1, 1), valid_to=None,
                        comparator=">=", value=30.0, source="镇考核方案"))
        uow.commit()
    f = _figures(services, scope=kc.Scope(district.paths["QS"]), codes=("QS", "LJ"))
    assert f["K-01"].target.value == 30.0 and f["K-01"].status == "met"   # 50 % ≥ 30 %
    assert _figures(services)["K-01"].target.value == 80.0


@pytest.mark.parametrize(("value", "comparator", "target", "unit", "expected"), [
    (85.0, ">=", 85.0, "percent", "met"), (81.0, ">=", 85.0, "percent", "at_risk"),
    (79.0, ">=", 85.0, "percent", "missed"), (24.0, "<=", 24.0, "hours", "met"),
    (26.0, "<=", 24.0, "hours", "at_risk"), (30.0, "<=", 24.0, "hours", "missed"),
    (None, ">=", 85.0, "percent", "no_data"),
])
def test_status_against_a_target(value, comparator, target, unit, expected):
    view = TargetView(1, "K-01", "*", date(2024, 1, 1), None, comparator, target, "plan")
    assert kpis.status(value, view, unit) == expected


def test_previous_period_of_whole_months_quarters_and_ranges():
    def prev(first, last):
        p = kc.Period.of(first, last, TZ).previous()
        return p.first, p.last
    assert prev(date(2025, 3, 1), date(2025, 3, 31)) == (date(2025, 2, 1), date(2025, 2, 28))
    assert prev(date(2025, 1, 1), date(2025, 3, 31)) == (date(2024, 10, 1), date(2024, 12, 31))
    assert prev(date(2025, 1, 1), date(2025, 12, 31)) == (date(2024, 1, 1), date(2024, 12, 31))
    assert prev(date(2025, 3, 3), date(2025, 3, 9)) == (date(2025, 2, 24), date(2025, 3, 2))


def test_township_leader_sees_only_the_township(services, month):
    district, _cases = month
    leader = Actor(type="user", id="9", roles=frozenset({"leader"}),
                   department_id=district.units["QS-ZZ"], unit_path=district.paths["QS"])
    with services.new_uow() as uow:
        where = cockpit.cockpit_scope(uow.session, leader)
        assert where.scope.place_path == district.paths["QS"] and where.place_code == "QS"
        with pytest.raises(cockpit.Denied):
            cockpit.cockpit_scope(uow.session, leader, "CD")
        handler = Actor(type="user", id="8", roles=frozenset({"dept_handler"}))
        with pytest.raises(cockpit.Denied):
            cockpit.cockpit_scope(uow.session, handler)


def test_a_bureau_head_sees_the_bureau(services, month):
    district, _cases = month
    head = Actor(type="user", id="7", roles=frozenset({"leader"}),
                 department_id=district.units["QS-JDTJ"], unit_path=district.paths["QS"])
    with services.new_uow() as uow:
        where = cockpit.cockpit_scope(uow.session, head)
    assert where.scope.unit_id == district.units["QS-JDTJ"]


def test_warning_precision_counts_decided_warnings_of_the_period(services, month):
    district, _cases = month
    from tests.kpi_fixtures import at
    from workflows.models import EarlyWarning
    with services.new_uow() as uow:
        for state, place in (("confirmed", "QS-SM-G1"), ("confirmed", "CD-XF-G2"),
                             ("false_alarm", "CD-XF-G2"), ("open", "QS-SM-G1")):
            uow.session.add(EarlyWarning(kind="hotspot", place_id=district.places[place],
                                         category="neighbour", count=3, case_ids=[],
                                         window_start=at("2025-03-01 00:00"),
                                         raised_at=at("2025-03-10 09:00"), state=state))
        uow.commit()
    f = _figures(services)["K-11"]
    assert (f.numerator, f.denominator, f.value, f.status) == (2, 3, 66.7, "missed")
    township = _figures(services, scope=kc.Scope(district.paths["QS"]))["K-11"]
    assert (township.numerator, township.denominator, township.value) == (1, 1, 100.0)


def test_the_cockpits_warning_precision_equals_the_warning_modules(services, month):
    """K-11 on the cockpit reads only decided warnings; its figures are those of the warning
    module's precision (which counts the open ones too) for every scope, a placeless warning
    counting for the district alone."""
    district, _cases = month
    from tests.kpi_fixtures import at
    from workflows.early_warning.precision import warning_precision
    from workflows.models import EarlyWarning
    with services.new_uow() as uow:
        for kind, state, place, when in (
                ("hotspot", "confirmed", "QS-SM-G1", "2025-03-10 09:00"),
                ("large_group", "false_alarm", "QS-SM-G1", "2025-03-31 23:30"),
                ("hotspot", "false_alarm", "CD-XF-G2", "2025-04-01 00:30"),
                ("repeat_person", "confirmed", None, "2025-03-12 09:00"),
                ("hotspot", "open", "CD-XF-G2", "2025-03-12 09:00")):
            uow.session.add(EarlyWarning(
                kind=kind, place_id=district.places[place] if place else None,
                category="neighbour", count=3, case_ids=[], window_start=at(when),
                raised_at=at(when), state=state, subject_key=f"{kind}-{place}-{when}"))
        uow.commit()
    for first, last in ((date(2025, 3, 1), date(2025, 3, 31)), (date(2025, 3, 1),
                                                                date(2025, 4, 30))):
        period = kc.Period.of(first, last, "Asia/Shanghai")
        for path in (None, district.paths["QS"], district.paths["CD"]):
            got = _figures(services, period, kc.Scope(path))["K-11"]
            with services.session_factory() as s:
                want = warning_precision(s, first, last, path, tz=period.start.tzinfo)
            assert (got.numerator, got.denominator) == (want["numerator"],
                                                       want["denominator"]), (first, path)
    march = _figures(services)["K-11"]
    assert (march.numerator, march.denominator) == (2, 3)    # the placeless one counts
