"""The demo district 临江区: its size, a handler for every unit, and the sample cases routed to the
units of their own street or township."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select

from workflows.access.policy import actor_for_user
from workflows.cases.lookup import CaseFilter, case_overview, list_cases
from workflows.demo.loader import DATA, load_demo, load_directory
from workflows.district.units import UnitResolver
from workflows.models import Case, Department, Place, User
from workflows.people.departments import OTHER_KINDS
from workflows.people.directory_import import parse_file, preview_import

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROUTING = Path(__file__).resolve().parents[2] / "bpmn" / "routing.dmn"
RECEIVING_ROLES = {"dept_handler"}
MEDIATION_KINDS = {"JDTJ", "SQTJ", "JDLT"}


def _routing_kinds() -> set[str]:
    """Every unit kind the shipped routing table names (lead and co-units)."""
    text = ROUTING.read_text(encoding="utf-8")
    kinds = set()
    for rule in re.findall(r"<rule\b.*?</rule>", text, re.S):
        outputs = re.findall(r"<outputEntry[^>]*>\s*<text>(.*?)</text>", rule, re.S)
        for cell in outputs[1:3]:        # department, co_departments
            kinds.update(re.findall(r"[A-Z]{2,4}", cell))
    return kinds


def _users_by_unit(session) -> dict[int, list[User]]:
    found: dict[int, list[User]] = {}
    for user in session.scalars(select(User).where(User.active.is_(True))):
        if user.department_id is not None:
            found.setdefault(user.department_id, []).append(user)
    return found


def test_the_district_has_its_streets_villages_grids_buildings_and_a_handler_everywhere(
        services):
    users = load_directory(services, CHEAP)
    with services.session_factory() as session:
        places = list(session.scalars(select(Place)))
        levels = Counter(place.level for place in places)
        units = list(session.scalars(select(Department)))
        staff = _users_by_unit(session)
        by_code = {place.code: place for place in places}
        names = {place.id: place.name for place in places}

        assert levels["district"] == 1
        assert levels["street"] + levels["township"] == 12
        assert levels["street"] and levels["township"]
        assert levels["community"] + levels["village"] >= 60
        assert levels["community"] and levels["village"]
        assert levels["grid"] >= 200
        assert levels["building"] >= 300
        assert all(p.address and p.address_key for p in places if p.level == "building")

        kinds = {unit.kind for unit in units}
        assert _routing_kinds() <= kinds
        at = {(unit.kind, names.get(unit.place_id or 0)) for unit in units}
        assert {("GA", "城东街道"), ("JDTJ", "青山镇"), ("SQTJ", "石门村"), ("XZ", "青山镇"),
                ("JD", "东湖街道"), ("JDLT", "白沙镇"), ("ZZ", "龙潭镇"), ("SQ", "石门村"),
                ("RS", "临江区"), ("FY", "临江区"), ("JR", "临江区"), ("GH", "临江区")} <= at
        for street in (p for p in places if p.level in ("street", "township")):
            here = {unit.kind for unit in units if unit.place_id == street.id}
            assert {"ZZ", "JDTJ", "JDLT"} <= here and here & {"JD", "XZ"}, street.name
        for community in (p for p in places if p.level in ("community", "village")):
            here = {unit.kind for unit in units if unit.place_id == community.id}
            assert {"SQ", "SQTJ"} <= here, community.name

        for unit in units:   # no unit without a handler; committees have mediators
            if unit.kind in OTHER_KINDS:   # grid stations receive no work: grid workers
                continue
            people = staff.get(unit.id, [])
            roles = {link.role.code for user in people for link in user.roles}
            assert RECEIVING_ROLES <= roles, unit.name
            assert all(user.display_name and user.display_name != user.username
                       for user in people), unit.name
            if unit.kind in MEDIATION_KINDS:
                assert "mediator" in roles, unit.name
            if unit.kind == "ZZ":
                assert {"intake_clerk", "triage_officer", "supervisor", "leader"} <= roles

        # from every grid, every kind the routing table names reaches a unit with a handler
        for grid in (p for p in places if p.level == "grid"):
            resolver = UnitResolver(session, grid.path)
            for kind in _routing_kinds():
                unit_id = resolver.id_of(kind)
                assert unit_id in staff, (grid.name, kind)
        shimen = UnitResolver(session, by_code["990102100202W01"].path)   # 青山镇石门村
        unit_names = {u.id: u.name for u in units}
        assert unit_names[shimen.id_of("JDTJ")] == "青山镇人民调解委员会"
        assert unit_names[shimen.id_of("SQTJ")] == "石门村人民调解委员会"
        assert unit_names[shimen.id_of("GA")] == "青山派出所"
        assert unit_names[shimen.id_of("JD")] == "青山镇人民政府"
        xingang = UnitResolver(session, by_code["990102007003W01"].path)  # no police station
        assert unit_names[xingang.id_of("GA")] == "区公安分局"

    assert {role for user in users for role in user.role.split(";")} >= {
        "intake_clerk", "triage_officer", "mediator", "dept_handler", "supervisor", "leader",
        "process_owner", "auditor", "admin"}
    assert len({user.password for user in users}) == len(users) > 250
    for kind in ("places", "units", "users"):   # the shipped files import again unchanged
        path = DATA / f"{kind}.csv"
        again = preview_import(services.new_uow(), kind, parse_file(kind, path.name,
                                                                     path.read_bytes()))
        assert again.ok and not again.created and not again.updated, kind


def test_sample_cases_are_located_and_routed_to_their_own_township(services):
    now = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
    load_demo(services, now=now, hasher=CHEAP)
    uow = services.new_uow()
    with uow:
        cases = {c.summary: c for c in uow.session.scalars(select(Case))}
        assert all(c.place_id is not None for c in cases.values())
        c01 = case_overview(uow, cases["楼上卫生间渗漏至楼下"])
        c02 = case_overview(uow, cases["两部电梯停运两周，业主拒交物业费"])
        c03 = case_overview(uow, cases["14名钢筋工被拖欠工资38.6万元，扬言聚集"])
        c04 = case_overview(uow, cases["解除劳动合同未支付经济补偿"])
        c01_no = cases["楼上卫生间渗漏至楼下"].case_no
        mediator = actor_for_user(uow.session.scalars(
            select(User).where(User.username == "mediator")).one())
        other = actor_for_user(uow.session.scalars(
            select(User).where(User.username == "qingshan_jdtj")).one())
    assert c01["location"]["names"] == ["临江区", "东湖街道", "锦苑社区", "锦苑社区第二网格",
                                        "锦苑小区3栋"]
    assert c01["lead_unit"]["name"] == "东湖街道人民调解委员会"
    assert {u["name"] for u in c01["co_units"]} == {"锦苑小区物业服务中心"}
    assert c04["lead_unit"]["name"] == "滨江街道劳动争议调解中心"
    assert {u["name"] for u in c02["co_units"]} >= {"西城街道办事处", "锦绣家园社区人民调解委员会"}
    # 新港街道 has no police station: the district police take GA; the rest sit at the district
    assert c03["lead_unit"]["code"] == "RS"
    assert {u["code"] for u in c03["co_units"]} == {"ZJ", "FY", "JR", "GH", "GA", "SF"}
    # 东湖's mediator sees the 东湖 case; 青山镇's committee sees none of these
    seen = {row["case_no"] for row in list_cases(services.new_uow(), mediator, CaseFilter())}
    assert c01_no in seen
    assert list_cases(services.new_uow(), other, CaseFilter()) == []
