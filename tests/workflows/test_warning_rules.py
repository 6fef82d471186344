"""The scheduler's warning rules at their thresholds, raised once, routed to the right
supervisors, decided (已核实 / 误报) and counted into K-11 warning precision."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, OutboxMessage
from tests.factories import make_user, seed
from workflows.access.policy import Denied
from workflows.audit.log import AuditAction
from workflows.core.actors import SYSTEM
from workflows.core.errors import InvalidInput
from workflows.district.places import child_path
from workflows.early_warning import evaluate as rules_run
from workflows.early_warning.decide import AlreadyDecided, decide_warning
from workflows.early_warning.listing import WarningFilter, list_warnings, warnings_page
from workflows.early_warning.precision import warning_precision
from workflows.early_warning.rules import hotspot_rule, load_rules, update_rule
from workflows.models import (
    Case,
    CaseParty,
    Department,
    EarlyWarning,
    Party,
    Place,
    WarningKind,
)

_numbers = itertools.count(1)


@pytest.fixture
def district(services):
    """示范区 > 青山镇 > 石门村 > 网格 > 1栋, and 白沙镇 > 网格 > 1栋; 青山镇综治中心 (ZZ) with a
    supervisor, the district centre ZZ with one, and an administrator."""
    seed(services)
    places: dict[str, Place] = {}
    with services.new_uow() as uow:
        def add(code: str, name: str, level: str, parent: str | None) -> None:
            above = places.get(parent) if parent else None
            place = Place(code=code, name=name, level=level,
                          parent_id=above.id if above else None)
            uow.session.add(place)
            uow.session.flush()
            place.path = child_path(above, place.id)
            places[code] = place

        add("D", "示范区", "district", None)
        add("QS", "青山镇", "township", "D")
        add("SM", "石门村", "village", "QS")
        add("SM-G1", "石门村第1网格", "grid", "SM")
        add("SM-B1", "1栋", "building", "SM-G1")
        add("BS", "白沙镇", "township", "D")
        add("BS-G1", "白沙镇第1网格", "grid", "BS")
        add("BS-B1", "白沙1栋", "building", "BS-G1")
        uow.session.add(Department(code="QS-ZZ", name="青山镇综治中心", tier="street", kind="ZZ",
                                   place_id=places["QS"].id, responsibilities=[]))
        info = {code: (place.id, place.path) for code, place in places.items()}
        uow.commit()
    qs = make_user(services, "supervisor", "QS-ZZ")
    return {"ids": {code: ident for code, (ident, _) in info.items()},
            "paths": {code: path for code, (_, path) in info.items()},
            "qs_supervisor": replace(qs, unit_path=info["QS"][1]),
            "district_supervisor": make_user(services, "supervisor", "ZZ"),
            "admin": make_user(services, "admin")}


def add_case(services, district, *, place: str | None = "SM-B1", category: str = "neighbour",
             opened: datetime | None = None, people: int = 1, person: str | None = None,
             org: str | None = None, status: str = "registered", risk: str = "blue") -> int:
    """A case row (no process needed by the rules) with an applicant found by ``person`` (a blind
    index value) and an organisation respondent with credit code ``org``."""
    number = next(_numbers)
    with services.new_uow() as uow:
        place_id = district["ids"][place] if place else None
        case = Case(case_no=f"JF-2025-{number:06d}", channel="hotline_12345", category=category,
                    people_count=people, status=status, risk_level=risk,
                    opened_at=opened or services.clock.now(), place_id=place_id,
                    place_path=district["paths"][place] if place else None)
        uow.session.add(case)
        uow.session.flush()
        if person:
            party = Party(name_enc="x", id_number_bidx=person)
            uow.session.add(party)
            uow.session.flush()
            uow.session.add(CaseParty(case_id=case.id, party_id=party.id, role="applicant"))
        if org:
            party = Party(kind="organisation", name_enc="x", credit_code=org)
            uow.session.add(party)
            uow.session.flush()
            uow.session.add(CaseParty(case_id=case.id, party_id=party.id, role="respondent"))
        ident = case.id
        uow.commit()
    return ident


def warnings(services, kind: str | None = None) -> list[EarlyWarning]:
    with services.session_factory() as session:
        query = select(EarlyWarning).order_by(EarlyWarning.id)
        if kind:
            query = query.where(EarlyWarning.kind == kind)
        return list(session.scalars(query))


def run(services) -> dict[str, int]:
    return rules_run.evaluate(services, services.clock.now())


# -- repeat complainant ------------------------------------------------------------------------
def test_repeat_person_at_three_matters_in_ninety_days_once(services, clock, district):
    start = clock.now()
    add_case(services, district, person="bidx-A", opened=start)
    add_case(services, district, person="bidx-A", opened=start + timedelta(days=45))
    add_case(services, district, person="bidx-B", opened=start + timedelta(days=50))
    clock.set(start + timedelta(days=90))
    add_case(services, district, person="bidx-A", opened=start + timedelta(days=90, seconds=1))
    run(services)       # 90 days and 1 s after the first: only two in the window
    assert warnings(services, WarningKind.REPEAT_PERSON) == []

    third = add_case(services, district, person="bidx-A", opened=start + timedelta(days=60))
    assert run(services)[WarningKind.REPEAT_PERSON] == 1
    assert run(services)[WarningKind.REPEAT_PERSON] == 0          # once per subject and window
    [warning] = warnings(services, WarningKind.REPEAT_PERSON)
    assert warning.count == 3 and third in warning.case_ids
    assert warning.subject_key == "person:bidx-A"                  # the blind index, no clear data
    assert warning.details == {"threshold": 3, "days": 90}


def test_repeat_person_two_matters_raise_nothing(services, clock, district):
    add_case(services, district, person="bidx-A")
    add_case(services, district, person="bidx-A")
    assert run(services)[WarningKind.REPEAT_PERSON] == 0


# -- large group -------------------------------------------------------------------------------
def test_large_group_by_people_at_five(services, district):
    add_case(services, district, people=4)
    run(services)
    assert warnings(services, WarningKind.LARGE_GROUP) == []
    big = add_case(services, district, people=5)
    run(services)
    run(services)
    [warning] = warnings(services, WarningKind.LARGE_GROUP)
    assert warning.case_ids == [big] and warning.subject_key == f"case:{big}"


def test_large_group_by_respondent_organisation_at_three_cases(services, clock, district):
    code = "91350100MA2XXXXX1K"
    add_case(services, district, org=code)
    add_case(services, district, org=code, place="BS-B1")
    run(services)
    assert warnings(services, WarningKind.LARGE_GROUP) == []
    clock.advance(days=29)
    add_case(services, district, org=code)
    run(services)
    [warning] = warnings(services, WarningKind.LARGE_GROUP)
    assert warning.count == 3 and warning.subject_key == f"org:{code}"


# -- trend spike -------------------------------------------------------------------------------
def test_trend_spike_at_twice_the_eight_week_mean(services, clock, district):
    # clock: Monday 2025-03-03 09:00 Beijing; 24 cases in the 8 weeks before (3 a week)
    monday = clock.now()
    for week in range(1, 9):
        for day in range(3):
            add_case(services, district, category="noise",
                     opened=monday - timedelta(weeks=week) + timedelta(days=day))
    for _ in range(5):
        add_case(services, district, category="noise")
    run(services)
    assert warnings(services, WarningKind.TREND_SPIKE) == []     # 5 < 2 x 3
    add_case(services, district, category="noise")
    run(services)
    run(services)
    found = warnings(services, WarningKind.TREND_SPIKE)
    # the township and the village both see the spike; each once
    assert sorted(w.place_id for w in found) == sorted([district["ids"]["QS"],
                                                        district["ids"]["SM"]])
    assert all(w.count == 6 and w.details["mean"] == 3.0 for w in found)


def test_trend_spike_needs_the_minimum_count(services, district):
    for _ in range(4):       # no history: the mean is 0, but 4 < 5
        add_case(services, district, category="noise")
    assert run(services)[WarningKind.TREND_SPIKE] == 0


# -- risk rise ---------------------------------------------------------------------------------
def _risk(services, case_id: int, before: str, after: str) -> None:
    with services.new_uow() as uow:
        case = uow.session.get(Case, case_id)
        case.risk_level = after
        uow.audit.record(AuditAction.RISK_CHANGED, SYSTEM, case=case, object_type="case",
                         object_id=case.case_no, before=before, after=after, reason="复核",
                         trigger="manual")
        uow.commit()


def test_risk_rise_to_yellow_or_above(services, district):
    case_id = add_case(services, district, risk="green")
    _risk(services, case_id, "green", "blue")          # a rise, below yellow
    _risk(services, case_id, "red", "orange")          # a fall
    run(services)
    assert warnings(services, WarningKind.RISK_RISE) == []
    _risk(services, case_id, "blue", "yellow")
    run(services)
    run(services)
    [warning] = warnings(services, WarningKind.RISK_RISE)
    assert warning.details == {"before": "blue", "after": "yellow"}


# -- wage arrears before the Spring Festival ---------------------------------------------------
def test_wage_arrears_in_the_thirty_days_before_the_holiday(services, clock, district):
    # the 2026 Spring Festival holiday starts on 15 February (official calendar)
    assert rules_run.festival_start(2026) == date(2026, 2, 15)
    clock.set(datetime(2026, 1, 15, 2, 0, tzinfo=UTC))          # 31 days before
    wage = add_case(services, district, category="labour_collective", people=3)
    add_case(services, district, category="labour", status="closed")
    add_case(services, district, category="neighbour")
    run(services)
    assert warnings(services, WarningKind.WAGE_ARREARS) == []
    clock.set(datetime(2026, 1, 16, 2, 0, tzinfo=UTC))          # 30 days before
    run(services)
    run(services)
    [warning] = warnings(services, WarningKind.WAGE_ARREARS)
    assert warning.case_ids == [wage] and warning.details["festival"] == "2026-02-15"


def test_the_festival_of_a_year_the_official_calendar_does_not_know_yet():
    assert rules_run.festival_start(2027) == date(2027, 2, 5)   # the eve of 6 February


# -- the rule set ------------------------------------------------------------------------------
def test_a_switched_off_rule_raises_nothing_and_every_change_is_audited(services, district):
    update_rule(services.new_uow(), district["admin"], WarningKind.LARGE_GROUP, enabled=False,
                params={"people": "5", "org_cases": "3", "days": "30"}, categories=[])
    add_case(services, district, people=50)
    assert WarningKind.LARGE_GROUP not in run(services)
    update_rule(services.new_uow(), district["admin"], WarningKind.LARGE_GROUP, enabled=True,
                params={"people": "60", "org_cases": "3", "days": "30"}, categories=[])
    assert run(services)[WarningKind.LARGE_GROUP] == 0
    with services.session_factory() as session:
        payloads = [json.loads(p) for p in session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == AuditAction.WARNING_RULE_CHANGED).order_by(AuditEvent.id))]
    assert payloads[0]["changes"] == {"enabled": {"from": True, "to": False}}
    assert payloads[1]["changes"] == {"enabled": {"from": False, "to": True},
                                      "people": {"from": 5, "to": 60}}


def test_rule_values_are_checked_and_only_administrators_change_them(services, district):
    with pytest.raises(InvalidInput) as refused:
        update_rule(services.new_uow(), district["admin"], WarningKind.TREND_SPIKE, enabled=True,
                    params={"factor": "0.5", "min_count": "x", "weeks": "8"}, categories=["nope"])
    assert set(refused.value.field_errors) == {"factor", "min_count", "categories"}
    with pytest.raises(Denied):
        update_rule(services.new_uow(), district["qs_supervisor"], WarningKind.TREND_SPIKE,
                    enabled=False, params={"factor": "2", "min_count": "5", "weeks": "8"},
                    categories=[])
    assert not load_rules(services.session_factory(), services.settings)[
        WarningKind.TREND_SPIKE].stored


def test_the_hotspot_rule_takes_the_saved_thresholds_and_categories(services, district):
    with services.session_factory() as session:
        assert hotspot_rule(session, services.settings, "noise") == (3, timedelta(days=30))
    update_rule(services.new_uow(), district["admin"], WarningKind.HOTSPOT, enabled=True,
                params={"reports": "4", "days": "14"}, categories=["noise"])
    with services.session_factory() as session:
        assert hotspot_rule(session, services.settings, "noise") == (4, timedelta(days=14))
        assert hotspot_rule(session, services.settings, "neighbour") is None


# -- routing, scope, decisions, precision ------------------------------------------------------
def _outbox(services) -> list[OutboxMessage]:
    with services.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "early_warning").order_by(OutboxMessage.id)))


def test_warnings_go_to_the_supervisors_of_the_place_unit(services, district):
    add_case(services, district, people=9, place="SM-B1")     # 青山镇: its ZZ unit's supervisor
    add_case(services, district, people=9, place="BS-B1")     # 白沙镇: no unit, the district's
    add_case(services, district, people=9, place=None)        # no place: the district's
    run(services)
    run(services)
    sent = [(m.recipient_type, m.recipient_id) for m in _outbox(services)]
    qs = ("user", str(district["qs_supervisor"].id))
    central = ("user", str(district["district_supervisor"].id))
    assert sent == [qs, central, central]
    assert all("人" in m.params["what"] and "x" not in m.params["what"] for m in _outbox(services))


def test_a_township_supervisor_sees_and_decides_only_its_warnings(services, district):
    mine = add_case(services, district, people=9, place="SM-B1")
    add_case(services, district, people=9, place="BS-B1")
    add_case(services, district, people=9, place=None)
    run(services)
    qs = district["qs_supervisor"]
    rows, total = warnings_page(services.new_uow(), qs, WarningFilter())
    assert total == 1 and rows[0]["cases"] == [f"JF-2025-{_no(services, mine)}"]
    rows, total = warnings_page(services.new_uow(), district["district_supervisor"],
                                WarningFilter())
    assert total == 3
    other = next(w for w in warnings(services) if w.place_id == district["ids"]["BS-B1"])
    with pytest.raises(Denied):
        decide_warning(services.new_uow(), qs, other.id, decision="confirmed", note="已核实")
    with services.session_factory() as session:
        assert session.scalars(select(AuditEvent.id).where(
            AuditEvent.action == "access_denied")).first() is not None


def _no(services, case_id: int) -> str:
    with services.session_factory() as session:
        return session.get(Case, case_id).case_no.split("-")[-1]


def test_confirm_and_false_alarm_count_into_precision(services, clock, district):
    for _ in range(4):
        add_case(services, district, people=9, place="SM-B1")
    add_case(services, district, people=9, place="BS-B1")
    run(services)
    first, second, third, fourth, bs = warnings(services)
    supervisor = district["qs_supervisor"]
    clock.advance(hours=2)
    decide_warning(services.new_uow(), supervisor, first.id, decision="confirmed",
                   note="现场核实，确有群体聚集苗头")
    decide_warning(services.new_uow(), supervisor, second.id, decision="confirmed", note="属实")
    decide_warning(services.new_uow(), supervisor, third.id, decision="false_alarm",
                   note="人数登记有误")
    with pytest.raises(AlreadyDecided):
        decide_warning(services.new_uow(), supervisor, third.id, decision="confirmed", note="再核")
    with pytest.raises(InvalidInput) as refused:
        decide_warning(services.new_uow(), supervisor, fourth.id, decision="confirmed",
                       note="联系人 13800138000")
    assert set(refused.value.field_errors) == {"note"}
    with pytest.raises(InvalidInput):
        decide_warning(services.new_uow(), supervisor, fourth.id, decision="confirmed", note=" ")

    day = clock.now().date()
    with services.session_factory() as session:
        overall = warning_precision(session, day, day)
        township = warning_precision(session, day, day, district["paths"]["QS"])
        other = warning_precision(session, day, day, district["paths"]["BS"])
        empty = warning_precision(session, day - timedelta(days=30), day - timedelta(days=1))
    assert (overall["value"], overall["numerator"], overall["denominator"]) == (0.6667, 2, 3)
    assert overall["raised"] == 5 and overall["open"] == 2
    assert overall["by_rule"][WarningKind.LARGE_GROUP]["denominator"] == 3
    assert overall["by_rule"][WarningKind.HOTSPOT] == {"value": None, "numerator": 0,
                                                       "denominator": 0, "raised": 0, "open": 0}
    assert township["denominator"] == 3 and township["raised"] == 4
    assert other["value"] is None and other["open"] == 1
    assert empty["value"] is None and empty["denominator"] == 0

    [row] = [r for r in list_warnings(services.new_uow(), SYSTEM) if r["id"] == third.id]
    assert row["state"] == "false_alarm" and row["rule"] == "large_group"
    assert row["decided_by"] == supervisor.username and row["note"] == "人数登记有误"
    assert row["decided_at"].startswith(clock.now().isoformat()[:16])
