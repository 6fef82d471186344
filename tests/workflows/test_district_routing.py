"""Routing to a real township: each kind resolves to the nearest unit up the case's place, a
case without a place falls back to the district level, and scope follows units and subtrees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from tests.district_fixtures import build_district, locate
from tests.factories import IDS, Walk, make_user
from workflows.cases.inbox import inbox
from workflows.cases.lookup import list_cases
from workflows.cases.parties import PartyInput
from workflows.district.units import UnitResolver
from workflows.models import Case, Department


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(services, clock):
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


@pytest.fixture
def district(walk, services):
    return build_district(services)


def _resolve(services, district, place: str | None, kind: str) -> str | None:
    with services.session_factory() as session:
        resolver = UnitResolver(session, district.paths[place] if place else None)
        ident = resolver.id_of(kind)
        return session.get(Department, ident).code if ident else None


@pytest.mark.parametrize("place,kind,unit", [
    ("QS-SM-G1-B3", "SQTJ", "QS-SM-SQTJ"),     # the village's own committee
    ("QS-SM-G1-B3", "JDTJ", "QS-JDTJ"),        # the township's committee above it
    ("QS-SM-G1", "JDTJ", "QS-JDTJ"),           # a grid resolves the same way as its building
    ("QS-SM", "SQTJ", "QS-SM-SQTJ"),           # a place that has the unit itself
    ("QS-SM-G1-B3", "RS", "LJ-RS"),            # a district unit placed at the district
    ("QS-SM-G1-B3", "ZJ", "ZJ"),               # a district unit without a place
    ("BS-HT-G1-B1", "JDTJ", "BS-JDTJ"),        # another township, its own committee
    ("BS-HT-G1-B1", "SQTJ", "SQTJ"),           # no village committee there: district level
    ("CD-XF-G2-B12", "GA", "CD-GA"),           # the police station covering the street
    ("QS-SM-G1-B3", "GA", "GA"),               # no station on the way up: the district bureau
    ("QS-SM-G1-B3", "JD", "QS-XZ"),            # a street office's part, played by the township
    ("CD-XF-G2-B12", "XZ", "CD-JD"),           # and the other way round
    (None, "JDTJ", "JDTJ"),                    # no place: the district-level unit
    (None, "RS", "LJ-RS"),                     # placed at the district beats no place
])
def test_each_kind_resolves_to_the_nearest_unit_up_the_tree(services, district, place, kind,
                                                            unit):
    assert _resolve(services, district, place, kind) == unit


def test_a_unit_code_names_that_unit_and_an_unknown_value_names_none(services, district):
    with services.session_factory() as session:
        resolver = UnitResolver(session, district.paths["QS-SM-G1-B3"])
        assert resolver.id_of("BS-JDTJ") == district.units["BS-JDTJ"]
        assert resolver.id_of("NOPE") is None and resolver.id_of("") is None


def test_an_inactive_unit_is_skipped(services, district):
    uow = services.new_uow()
    with uow:
        uow.session.get(Department, district.units["QS-SM-SQTJ"]).active = False
        uow.commit()
    assert _resolve(services, district, "QS-SM-G1-B3", "SQTJ") == "SQTJ"


def _neighbour_case(walk, district, place: str | None, party: str = "刘淑芬") -> str:
    # one party per case: the same person reporting again would be linked as a duplicate
    case_no = walk.intake(channel="counter", category="neighbour", urgency="general",
                          people_count=2, summary="邻里漏水纠纷", description="楼上漏水",
                          parties=[PartyInput(name=party, id_number=IDS[party])])
    if place:
        locate(walk.services, case_no, district, place)
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="邻里漏水纠纷")
    return case_no


def test_a_located_case_is_dispatched_to_its_townships_committee(walk, district):
    _neighbour_case(walk, district, "QS-SM-G1-B3")
    summary = walk.summary()
    assert summary["lead_unit"] == {"code": "QS-JDTJ", "name": "青山镇人民调解委员会"}
    assert summary["location"] == {
        "place_code": "QS-SM-G1-B3", "names": ["临江区", "青山镇", "石门村", "石门村第一网格",
                                               "石门村3组12号"]}
    assert walk.task("sign_off")["dept"] == "QS-JDTJ"


def test_an_unlocated_case_falls_back_to_the_district_level(walk, district):
    _neighbour_case(walk, district, None)
    summary = walk.summary()
    assert summary["lead_unit"]["code"] == "JDTJ" and summary["location"] is None


def test_the_townships_handler_sees_the_work_and_the_neighbours_do_not(walk, district, services):
    case_no = _neighbour_case(walk, district, "QS-SM-G1-B3")
    own = make_user(services, "dept_handler", "QS-JDTJ")
    other = make_user(services, "dept_handler", "BS-JDTJ")
    district_level = make_user(services, "dept_handler", "JDTJ")
    assert [row["case_no"] for row in inbox(services.new_uow(), own).rows] == [case_no]
    for actor in (other, district_level):
        assert inbox(services.new_uow(), actor).rows == []
        assert list_cases(services.new_uow(), actor) == []


def test_supervisors_see_their_units_subtree_only(walk, district, services):
    qingshan = _neighbour_case(walk, district, "QS-SM-G1-B3")
    baisha = _neighbour_case(walk, district, "BS-HT-G1-B1", "陈立伟")
    nowhere = _neighbour_case(walk, district, None, "马德顺")

    def seen(unit: str) -> set[str]:
        actor = make_user(services, "supervisor", unit)
        return {row["case_no"] for row in list_cases(services.new_uow(), actor)}

    assert seen("QS-ZZ") == {qingshan}
    assert seen("BS-ZZ") == {baisha}
    assert seen("ZZ") == {qingshan, baisha, nowhere}   # the district centre sees every place


def test_a_township_leader_sees_only_escalated_cases_of_the_township(walk, district, services):
    qingshan = _neighbour_case(walk, district, "QS-SM-G1-B3")
    baisha = _neighbour_case(walk, district, "BS-HT-G1-B1", "陈立伟")
    uow = services.new_uow()
    with uow:
        for case in uow.session.scalars(select(Case).where(Case.case_no.in_([qingshan, baisha]))):
            case.risk_level = "red"
        uow.commit()
    leader = make_user(services, "leader", "QS-ZZ")
    assert {row["case_no"] for row in list_cases(services.new_uow(), leader)} == {qingshan}
