"""Location rules of intake: duplicates by building, hotspot warnings at a building or grid."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, OutboxMessage
from tests.factories import IDS, make_user, seed
from tests.workflows.helpers import deploy_fixture
from workflows.cases.parties import PartyInput
from workflows.district.places import child_path
from workflows.intake.register import IntakeRequest, preview_intake, submit_intake
from workflows.models import Case, Department, EarlyWarning, Place, Submission
from workflows.replay.case_replay import replay_case

_phones = itertools.count(13800000001)


@pytest.fixture
def district(services):
    return build_district(services)


def build_district(services) -> dict:
    """示范区 > 青山镇 > 石门村 > 石门村第1网格 > 1栋, 2栋 (and 白沙镇's 网格 with its 1栋);
    青山镇综治中心 (kind ZZ) with a supervisor, the clerk at the district centre."""
    seed(services)
    deploy_fixture(services, "simple.bpmn")
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
        add("SM-B2", "2栋", "building", "SM-G1")
        add("BS", "白沙镇", "township", "D")
        add("BS-G1", "白沙镇第1网格", "grid", "BS")
        add("BS-B1", "白沙1栋", "building", "BS-G1")
        uow.session.add(Department(code="QS-ZZ", name="青山镇综治中心", tier="street", kind="ZZ",
                                   place_id=places["QS"].id, responsibilities=[]))
        ids = {code: place.id for code, place in places.items()}
        uow.commit()
    supervisor = make_user(services, "supervisor", "QS-ZZ")
    clerk = make_user(services, "intake_clerk", "ZZ")
    return {"ids": ids, "clerk": clerk, "supervisor": supervisor}


def report(services, district, place: str | None, *, category: str = "public_order",
           name: str | None = None, **fields):
    """A report by a new person (or ``name`` from IDS) at ``place``."""
    party = PartyInput(name=name, id_number=IDS[name], contact_preference="sms") if name else \
        PartyInput(name="居民", phone=str(next(_phones)), contact_preference="sms")
    request = IntakeRequest(channel="hotline_12345", category=category, summary="楼上抛物",
                            description="楼上有人往下扔东西", parties=[party],
                            place_id=district["ids"][place] if place else None, **fields)
    return submit_intake(services.new_uow(), district["clerk"], request, process_id="simple")


def cases(services) -> int:
    with services.session_factory() as session:
        return len(session.scalars(select(Case.id)).all())


def warnings(services) -> list[EarlyWarning]:
    with services.session_factory() as session:
        return list(session.scalars(select(EarlyWarning).order_by(EarlyWarning.id)))


def notices(services, template: str) -> list[OutboxMessage]:
    with services.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                                    .order_by(OutboxMessage.id)))


# -- duplicates by location -----------------------------------------------------------------------
def test_a_report_at_the_same_building_within_seven_days_is_linked_to_the_open_case(
        services, clock, district):
    master = report(services, district, "SM-B1")
    clock.advance(days=6, hours=23, minutes=59)
    again = report(services, district, "SM-B1")
    assert (again.kind, again.linked_by, again.case_no) == ("duplicate", "location",
                                                            master.case_no)
    assert cases(services) == 1
    with services.session_factory() as session:
        rows = session.scalars(select(Submission).order_by(Submission.id)).all()
        assert [(s.linked_as, s.linked_by) for s in rows] == [("new", None),
                                                             ("duplicate", "location")]
        reporter = rows[1].party_id
        assert reporter is not None and reporter != rows[0].party_id
    # the reporter (not the master's applicant) is told the open case's code
    told = notices(services, "duplicate_linked")
    assert [(n.recipient_id, n.params["case_no"]) for n in told] == [(reporter, master.case_no)]
    assert replay_case(services, master.case_no, record=False).summary().startswith("verified")


def test_seven_days_and_a_second_later_a_new_case_is_opened(services, clock, district):
    master = report(services, district, "SM-B1")
    clock.advance(days=7, seconds=1)
    again = report(services, district, "SM-B1")
    assert again.kind == "new" and again.case_no != master.case_no and again.linked_by is None


def test_the_window_runs_from_the_received_time(services, clock, district):
    master = report(services, district, "SM-B1")
    received = clock.now() + timedelta(days=6)
    clock.advance(days=9)                       # registered late, received within the window
    again = report(services, district, "SM-B1", received_at=received)
    assert (again.kind, again.case_no) == ("duplicate", master.case_no)


def test_a_closed_case_takes_no_duplicate_by_location(services, clock, district):
    master = report(services, district, "SM-B1")
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == master.case_no)).one()
        case.status, case.closed_at = "closed", clock.now()
        uow.commit()
    clock.advance(days=1)
    assert report(services, district, "SM-B1").kind == "new"


@pytest.mark.parametrize(("place", "category"), [
    ("SM-B1", "noise"),          # another category
    ("SM-B2", "public_order"),   # another building
    ("SM-G1", "public_order"),   # located only at the grid
])
def test_other_category_other_building_or_a_grid_is_not_linked(services, clock, district,
                                                               place, category):
    report(services, district, "SM-B1")
    if place == "SM-G1":
        report(services, district, "SM-G1")
    clock.advance(days=1)
    assert report(services, district, place, category=category).kind == "new"


def test_household_matters_and_emergencies_are_never_linked_by_location(services, clock,
                                                                       district):
    report(services, district, "SM-B1", category="family")
    report(services, district, "SM-B1")
    clock.advance(hours=1)
    assert report(services, district, "SM-B1", category="family").kind == "new"
    assert report(services, district, "SM-B1", emergency=True).kind == "new"


def test_the_person_rule_comes_first_and_says_so(services, clock, district):
    first = report(services, district, "SM-B1", name="刘淑芬")
    clock.advance(days=1)
    again = report(services, district, "SM-B2", name="刘淑芬")
    assert (again.kind, again.linked_by, again.case_no) == ("duplicate", "person",
                                                            first.case_no)


def test_the_preview_names_the_case_a_location_duplicate_joins(services, clock, district):
    master = report(services, district, "SM-B1")
    request = IntakeRequest(channel="counter", category="public_order", description="又扔了",
                            parties=[PartyInput(name="居民", phone="13900000000")],
                            place_id=district["ids"]["SM-B1"])
    preview = preview_intake(services.new_uow(), district["clerk"], request)
    assert (preview.kind, preview.linked_by, preview.case_no, preview.saved) == (
        "duplicate", "location", master.case_no, False)


def test_the_location_window_is_configured_per_category(services, clock, district):
    services.settings = replace(services.settings,
                                location_duplicate_days_by_category=("public_order=2",))
    master = report(services, district, "SM-B1")
    clock.advance(days=2)
    assert report(services, district, "SM-B1").case_no == master.case_no
    clock.advance(seconds=1)
    assert report(services, district, "SM-B1").kind == "new"


# -- hotspot warnings -----------------------------------------------------------------------------
def test_the_third_report_within_thirty_days_raises_one_warning(services, clock, district):
    start = clock.now()
    first = report(services, district, "SM-B1")
    clock.advance(days=10)
    second = report(services, district, "SM-B1")
    assert warnings(services) == []
    clock.set(start + timedelta(days=30))
    third = report(services, district, "SM-B1")
    raised = warnings(services)
    building = next(w for w in raised if w.place_id == district["ids"]["SM-B1"])
    assert (building.kind, building.category, building.count, building.state) == (
        "hotspot", "public_order", 3, "open")
    assert building.window_start == start and building.raised_at == clock.now()
    with services.session_factory() as session:
        codes = session.scalars(select(Case.case_no).where(Case.id.in_(building.case_ids))
                                .order_by(Case.id)).all()
    assert codes == [first.case_no, second.case_no, third.case_no]
    # the grid holding the building counts them too
    assert {w.place_id for w in raised} == {district["ids"]["SM-B1"], district["ids"]["SM-G1"]}
    sent = notices(services, "hotspot_warning")
    assert {(n.recipient_type, n.recipient_id) for n in sent} == {
        ("user", district["supervisor"].id)}
    assert len(sent) == 2       # one per warning (building, grid)
    body = sent[0].params
    assert body["place"] == "示范区青山镇石门村石门村第1网格1栋" and body["count"] == 3
    assert body["category"] == "高空抛物/治安" and body["days"] == 30
    with services.session_factory() as session:
        audited = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "warning_raised")).all()
    assert len(audited) == 2


def test_a_third_report_thirty_days_and_a_second_later_raises_nothing(services, clock,
                                                                     district):
    start = clock.now()
    report(services, district, "SM-B1")
    clock.advance(days=10)
    report(services, district, "SM-B1")
    clock.set(start + timedelta(days=30, seconds=1))
    report(services, district, "SM-B1")
    assert warnings(services) == [] and notices(services, "hotspot_warning") == []


def test_reports_linked_by_location_count_and_a_fourth_updates_the_warning(services, clock,
                                                                          district):
    master = report(services, district, "SM-B1")
    for _ in range(3):
        clock.advance(days=1)
        assert report(services, district, "SM-B1").case_no == master.case_no
    found = [w for w in warnings(services) if w.place_id == district["ids"]["SM-B1"]]
    assert len(found) == 1 and found[0].count == 4
    with services.session_factory() as session:
        master_id = session.scalar(select(Case.id).where(Case.case_no == master.case_no))
    assert found[0].case_ids == [master_id]
    building_notices = [n for n in notices(services, "hotspot_warning")
                        if n.params["place"].endswith("1栋")]
    assert len(building_notices) == 1


def test_a_person_repeating_themselves_is_not_a_new_report(services, clock, district):
    report(services, district, "SM-B1", name="刘淑芬")
    for _ in range(3):
        clock.advance(days=1)
        assert report(services, district, "SM-B1", name="刘淑芬").linked_by == "person"
    assert warnings(services) == []


def test_the_grid_counts_all_its_buildings(services, clock, district):
    for place in ("SM-B1", "SM-B2", "SM-G1"):
        report(services, district, place)
        clock.advance(days=8)
    raised = warnings(services)
    assert [(w.place_id, w.count) for w in raised] == [(district["ids"]["SM-G1"], 3)]


def test_once_per_window_reports_after_it_start_a_new_count(services, clock, district):
    start = clock.now()
    for day in (0, 10, 20):
        clock.set(start + timedelta(days=day))
        report(services, district, "BS-B1")
    first = [w for w in warnings(services) if w.place_id == district["ids"]["BS-B1"]]
    assert len(first) == 1 and first[0].count == 3
    clock.set(start + timedelta(days=31))       # within 30 days of the 2nd and 3rd report, but
    report(services, district, "BS-B1")          # those belong to the first warning's window
    assert len([w for w in warnings(services) if w.place_id == district["ids"]["BS-B1"]]) == 1
    for day in (40, 50):
        clock.set(start + timedelta(days=day))
        report(services, district, "BS-B1")
    building = [w for w in warnings(services) if w.place_id == district["ids"]["BS-B1"]]
    assert [(w.count, w.window_start) for w in building] == [
        (3, start), (3, start + timedelta(days=31))]


def test_the_hotspot_rule_is_configured_per_category(services, clock, district):
    services.settings = replace(services.settings, hotspot_by_category=("noise=2/7",),
                                location_duplicate_days=0)
    report(services, district, "SM-B1", category="noise")
    clock.advance(days=7)
    report(services, district, "SM-B1", category="noise")
    assert {w.category for w in warnings(services)} == {"noise"}
    report(services, district, "SM-B2", category="public_order")
    report(services, district, "SM-B2", category="public_order")
    assert {w.category for w in warnings(services)} == {"noise"}   # 3 in 30 days still


def test_without_supervisors_the_unit_itself_is_told(services, clock, district):
    with services.new_uow() as uow:
        uow.session.add(Department(code="BS-ZZ", name="白沙镇综治中心", tier="street", kind="ZZ",
                                   place_id=district["ids"]["BS"], responsibilities=[]))
        uow.commit()
    for _ in range(3):
        report(services, district, "BS-B1", category="noise")
        clock.advance(days=8)
    with services.session_factory() as session:
        unit_id = session.scalar(select(Department.id).where(Department.code == "BS-ZZ"))
    assert {(n.recipient_type, n.recipient_id) for n in notices(services, "hotspot_warning")} \
        == {("department", str(unit_id))}


def test_reports_at_one_building_at_once_raise_one_warning(committed_services):
    services = committed_services
    district = build_district(services)
    outcomes, errors = [], []

    def work():
        try:
            outcomes.append(report(services, district, "SM-B1"))
        except Exception as exc:  # collected: the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(o.kind for o in outcomes) == ["duplicate", "duplicate", "duplicate", "new"]
    assert sorted((w.place_id, w.count) for w in warnings(services)) == [
        (district["ids"]["SM-G1"], 4), (district["ids"]["SM-B1"], 4)]
