"""Intake in the district: where the matter happened, who the parties are, when it was received.

Locations by place code, exact standard address, similar addresses (candidates, never applied
silently) or none; any number of parties, organisations with a checked 统一社会信用代码,
landlines, age or birth date, vulnerable parties (called, urgent, a banner); amount in dispute;
received_at bounds, and the sign-off limit and the duplicate window running from received_at.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent, OutboxMessage
from tests.factories import IDS, Walk, make_user, seed
from tests.workflows.helpers import deploy_fixture
from workflows.cases import duplicates
from workflows.cases.lookup import case_summary, find_case
from workflows.cases.parties import (
    PartyInput,
    PartyVault,
    credit_check_digit,
    normalize_credit_code,
)
from workflows.core.errors import ErrorCode, FieldCode, InvalidInput
from workflows.core.settings import Settings
from workflows.district.places import address_key, child_path
from workflows.intake.location import LocationInput
from workflows.intake.received import received_errors
from workflows.intake.register import IntakeRequest, preview_intake, submit_intake
from workflows.models import Case, CaseDocument, CaseParty, Department, Party, Place

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)          # the clock fixture: Mon 09:00 in Beijing
ORG_CODE = "91350100M000100Y43"                        # a valid 统一社会信用代码 (GB 32100)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


# -- a small district ---------------------------------------------------------------------------
TREE = [  # code, name, level, parent code, standard address
    ("D01", "示范区", "district", None, None),
    ("T_QS", "青山镇", "township", "D01", None),
    ("T_BS", "白沙镇", "township", "D01", None),
    ("V_SM", "石门村", "village", "T_QS", None),
    ("V_HX", "红星村", "village", "T_BS", None),
    ("G_SM1", "石门村第一网格", "grid", "V_SM", None),
    ("G_HX1", "红星村第一网格", "grid", "V_HX", None),
    ("B_SM12", "石门村12栋", "building", "G_SM1", "青山镇石门村12栋"),
    ("B_SM13", "石门村13栋", "building", "G_SM1", "青山镇石门村13栋"),
    ("B_HX2", "红星村2栋", "building", "G_HX1", "白沙镇红星村2栋"),
    ("B_OLD", "已拆除的仓库", "building", "G_SM1", "青山镇石门村仓库"),
]


def build_district(services) -> dict[str, int]:
    """The tree above (the warehouse inactive) and units at the townships and the village."""
    with services.new_uow() as uow:
        places: dict[str, Place] = {}
        for code, name, level, parent, address in TREE:
            place = Place(code=code, name=name, level=level,
                          parent_id=places[parent].id if parent else None, address=address,
                          address_key=address_key(address) if address else None,
                          active=code != "B_OLD")
            uow.session.add(place)
            uow.session.flush()
            place.path = child_path(places.get(parent) if parent else None, place.id)
            places[code] = place
        for code, name, kind, at in (("QS_JDTJ", "青山镇人民调解委员会", "JDTJ", "T_QS"),
                                     ("SM_SQTJ", "石门村人民调解委员会", "SQTJ", "V_SM")):
            uow.session.add(Department(code=code, name=name, kind=kind, tier="street",
                                       place_id=places[at].id, responsibilities=[]))
        uow.session.flush()
        ids = {code: place.id for code, place in places.items()}
        uow.commit()
        return ids


@pytest.fixture
def clerk(services):
    seed(services)
    deploy_fixture(services, "simple.bpmn")
    build_district(services)
    return make_user(services, "intake_clerk", "ZZ")


_NAMES = itertools.cycle(IDS)


def request(*parties: PartyInput, **fields) -> IntakeRequest:
    """A neighbour dispute; without parties a new applicant each time (no duplicates)."""
    fields.setdefault("category", "neighbour")
    name = next(_NAMES)
    return IntakeRequest(channel="counter", description="楼上漏水", summary="邻里漏水",
                         parties=list(parties) or [PartyInput(name=name, id_number=IDS[name])],
                         **fields)


def submit(services, clerk, req: IntakeRequest):
    return submit_intake(services.new_uow(), clerk, req, process_id="simple")


def refused(services, clerk, req: IntakeRequest) -> dict:
    with pytest.raises(InvalidInput) as caught:
        submit(services, clerk, req)
    return {name: (str(e.code), dict(e.params)) for name, e in caught.value.field_errors.items()}


def the_case(services, case_no: str) -> Case:
    with services.session_factory() as session:
        case = find_case(session, case_no)
        session.expunge(case)
        return case


def count(services, model) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def summary(services, case_no: str) -> dict:
    with services.session_factory() as session:
        return case_summary(session, find_case(session, case_no))


# -- received_at --------------------------------------------------------------------------------
def test_received_at_may_lie_ahead_by_the_clock_skew_and_no_more(services, clerk):
    edge = submit(services, clerk, request(received_at=NOW + timedelta(minutes=5)))
    assert the_case(services, edge.case_no).opened_at == NOW + timedelta(minutes=5)
    errors = refused(services, clerk, request(
        received_at=NOW + timedelta(minutes=5, seconds=1)))
    assert errors == {"received_at": (ErrorCode.RECEIVED_IN_FUTURE, {"minutes": 5})}


def test_received_more_than_30_days_ago_needs_the_clerks_reason(services, clerk, clock):
    at_edge = submit(services, clerk, request(received_at=NOW - timedelta(days=30)))
    assert the_case(services, at_edge.case_no).received_late_reason is None
    late = NOW - timedelta(days=30, seconds=1)
    assert refused(services, clerk, request(received_at=late)) == {
        "received_late_reason": (ErrorCode.RECEIVED_LATE_REASON, {"days": 30})}
    assert refused(services, clerk, request(received_at=late, received_late_reason="  ")) == {
        "received_late_reason": (ErrorCode.RECEIVED_LATE_REASON, {"days": 30})}
    saved = submit(services, clerk, request(received_at=late,
                                            received_late_reason="信访转送件邮寄延误"))
    case = the_case(services, saved.case_no)
    assert case.received_late_reason == "信访转送件邮寄延误"
    assert (case.opened_at, case.registered_at) == (late, NOW)
    with services.session_factory() as session:
        opened = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case_opened", AuditEvent.object_id == saved.case_no)).one()
    payload = json.loads(opened.payload)
    assert payload["received_late_reason"] == "信访转送件邮寄延误"
    assert payload["received_at"] == late.isoformat()


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+08:00",
                                    "1999-12-31T23:59:59+08:00"])
def test_impossible_years_are_refused_even_with_a_reason(services, clerk, moment):
    errors = refused(services, clerk, request(received_at=datetime.fromisoformat(moment),
                                              received_late_reason="补录"))
    assert errors == {"received_at": (ErrorCode.RECEIVED_YEAR, {"low": 2000, "high": 2026})}
    assert count(services, Case) == 0


def test_received_bounds_come_from_the_settings():
    settings = replace(Settings(), received_skew_minutes=0, received_max_days=7)
    assert received_errors(NOW + timedelta(seconds=1), None, NOW, settings)["received_at"].code \
        == ErrorCode.RECEIVED_IN_FUTURE
    assert received_errors(NOW - timedelta(days=7), None, NOW, settings) == {}
    assert received_errors(NOW - timedelta(days=8), None, NOW, settings)[
        "received_late_reason"].params == {"days": 7}
    assert received_errors(None, None, NOW, settings) == {}


def test_case_shows_received_and_registered_times(services, clerk):
    received = NOW - timedelta(hours=3)
    outcome = submit(services, clerk, request(received_at=received))
    shown = summary(services, outcome.case_no)
    assert shown["received_at"] == received.isoformat()
    assert shown["registered_at"] == NOW.isoformat()


def test_the_duplicate_window_runs_between_received_times(services, clerk, clock):
    liu = PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"])
    master = submit(services, clerk, request(liu))          # received Mon 2025-03-03 09:00
    clock.set(NOW + timedelta(days=31))                     # registered a month later ...
    within = submit(services, clerk, request(liu, received_at=NOW + timedelta(days=29)))
    assert (within.kind, within.case_no) == ("duplicate", master.case_no)
    outside = submit(services, clerk, request(liu,
                                              received_at=NOW + timedelta(days=30, seconds=1)))
    assert outside.kind == "new" and outside.case_no != master.case_no


def test_a_frequent_applicants_open_case_is_found_behind_many_closed_ones(services, clerk,
                                                                          monkeypatch):
    """The person rules read only the newest matching rows, and never cases closed past the
    watch window: an old open case stays a candidate however many closed ones came after it."""
    monkeypatch.setattr(duplicates, "MATTER_ROWS", 3)
    liu = PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"])
    old = submit(services, clerk, request(liu))
    moved(services, old.case_no, opened_at=NOW - timedelta(days=100))  # out of the window
    for _ in range(5):
        later = submit(services, clerk, request(liu))
        assert later.kind == "new"
        moved(services, later.case_no, status="closed", closed_at=NOW - timedelta(days=40))
    preview = preview_intake(services.new_uow(), clerk, request(liu))
    assert (preview.kind, preview.candidates) == ("new", [old.case_no])


def test_an_applicants_own_case_is_found_behind_many_newer_cases_against_the_same_respondent(
        services, clerk, monkeypatch):
    """A big employer is named as respondent in many newer open cases: the person rules still
    find the worker's own open case (the exact rule's rows come first under the limit)."""
    monkeypatch.setattr(duplicates, "MATTER_ROWS", 3)
    worker = PartyInput(name="韦春生", id_number=IDS["韦春生"])
    employer = PartyInput(name="孙永福", id_number=IDS["孙永福"], role="respondent")
    own = submit(services, clerk, request(worker, employer))
    for name in ("马德顺", "杨光荣", "郑雅琪", "罗建平"):
        other = submit(services, clerk, request(PartyInput(name=name, id_number=IDS[name]),
                                                employer))
        assert other.case_no != own.case_no
    again = submit(services, clerk, request(worker, employer))
    assert (again.kind, again.case_no) == ("duplicate", own.case_no)


def moved(services, case_no: str, **values) -> None:
    with services.new_uow() as uow:
        uow.session.execute(update(Case).where(Case.case_no == case_no).values(**values))
        uow.commit()


# -- location ------------------------------------------------------------------------------------
def located(services, case_no: str) -> tuple:
    case = the_case(services, case_no)
    return case.place_id, case.place_path, case.location_detail


@pytest.mark.parametrize("code", ["G_SM1", "B_SM12"])
def test_a_grid_or_building_code_locates_the_case(services, clerk, code):
    outcome = submit(services, clerk, request(
        location=LocationInput(place_code=code, detail="3单元502室门口")))
    with services.session_factory() as session:
        place = session.scalars(select(Place).where(Place.code == code)).one()
        assert located(services, outcome.case_no) == (place.id, place.path, "3单元502室门口")
    where = summary(services, outcome.case_no)["location"]
    assert where["place_code"] == code and where["names"][:3] == ["示范区", "青山镇", "石门村"]
    with services.session_factory() as session:              # the receipt names the place
        receipt = session.scalars(select(CaseDocument).where(CaseDocument.kind == "receipt")).one()
    assert "发生地点：示范区青山镇石门村" in receipt.body and "3单元502室门口" in receipt.body


@pytest.mark.parametrize(("code", "error"), [
    ("NOPE", ErrorCode.PLACE_UNKNOWN), ("B_OLD", ErrorCode.PLACE_UNKNOWN),
    ("T_QS", ErrorCode.PLACE_NOT_CASE_LEVEL), ("V_SM", ErrorCode.PLACE_NOT_CASE_LEVEL)])
def test_a_place_code_must_name_an_active_grid_or_building(services, clerk, code, error):
    errors = refused(services, clerk, request(location=LocationInput(place_code=code)))
    assert errors == {"location-place_code": (error, {"code": code})}
    assert count(services, Case) == 0


def test_an_exact_standard_address_locates_the_case(services, clerk):
    # another spelling of 青山镇石门村12栋: numerals, 幢, spaces and full-width characters
    outcome = submit(services, clerk, request(location=LocationInput(
        address="青山镇 石门村 十二幢", detail="楼下车棚")))
    place_id, path, detail = located(services, outcome.case_no)
    assert summary(services, outcome.case_no)["location"]["place_code"] == "B_SM12"
    assert detail == "楼下车棚" and path.endswith(f"/{place_id}/")


def test_a_similar_address_is_offered_never_applied(services, clerk):
    req = request(location=LocationInput(address="石门村12栋", detail="楼下车棚"))
    errors = refused(services, clerk, req)
    code, params = errors["location-address"]
    assert code == ErrorCode.ADDRESS_CANDIDATES
    assert params["candidates"][0] == {"code": "B_SM12", "address": "青山镇石门村12栋"}
    assert "B_HX2" not in [c["code"] for c in params["candidates"]]
    assert count(services, Case) == 0
    # the preview answers the same: the clerk chooses before saving
    with pytest.raises(InvalidInput):
        preview_intake(services.new_uow(), clerk, req)
    chosen = submit(services, clerk, replace(req, location=LocationInput(
        place_code="B_SM12", address="石门村12栋", detail="楼下车棚")))
    assert summary(services, chosen.case_no)["location"]["place_code"] == "B_SM12"
    assert the_case(services, chosen.case_no).location_detail == "楼下车棚"


def test_none_of_the_candidates_registers_without_a_place(services, clerk):
    outcome = submit(services, clerk, request(location=LocationInput(
        address="石门村12栋", detail="东侧", unmatched=True)))
    assert located(services, outcome.case_no) == (None, None, "石门村12栋 东侧")
    assert summary(services, outcome.case_no)["location"] is None


def test_an_unknown_address_is_kept_as_text_without_a_place(services, clerk):
    outcome = submit(services, clerk, request(location=LocationInput(
        address="环城东路99号", detail="路口")))
    assert located(services, outcome.case_no) == (None, None, "环城东路99号 路口")
    preview = preview_intake(services.new_uow(), clerk, request(
        location=LocationInput(place_code="B_HX2")))
    assert preview.location["names"][-1] == "红星村2栋" and preview.location["matched"] == "code"


def test_a_case_without_a_place_goes_to_district_level_units(services, clock):
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    build_district(services)
    walk.intake(channel="counter", category="neighbour", summary="邻里漏水", description="漏水",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"])],
                location=LocationInput(place_code="B_SM12"))
    here = walk.case_no
    walk.intake(channel="counter", category="neighbour", summary="邻里漏水", description="漏水",
                parties=[PartyInput(name="陈立伟", id_number=IDS["陈立伟"])],
                location=LocationInput(address="环城东路99号"))
    nowhere = walk.case_no
    for case_no in (here, nowhere):
        walk.case_no = case_no
        walk.do("register", category="neighbour", urgency="general", people_count="2",
                summary="邻里漏水")
    walk.case_no = here
    assert walk.task("sign_off")["dept"] == "QS_JDTJ"          # the township's committee
    walk.case_no = nowhere
    assert walk.task("sign_off")["dept"] == "JDTJ"             # the district-level unit


# -- parties -------------------------------------------------------------------------------------
def test_twelve_workers_and_their_employer_are_registered(services, clerk):
    workers = [PartyInput(name=f"工人{n:02d}", phone=f"1380000{n:04d}") for n in range(1, 13)]
    employer = PartyInput(name="宏基建设有限公司", role="respondent", kind="organisation",
                          credit_code=ORG_CODE.lower(), phone="0591-87654321")
    outcome = submit(services, clerk, request(*workers, employer, category="labour_collective",
                                              people_count=12, amount=Decimal("386000.50")))
    with services.session_factory() as session:
        case = find_case(session, outcome.case_no)
        rows = session.execute(select(CaseParty.role, Party).join(
            Party, Party.id == CaseParty.party_id).where(CaseParty.case_id == case.id)).all()
        assert case.amount == Decimal("386000.50")
    assert [role for role, _ in rows].count("applicant") == 12
    org = next(party for role, party in rows if role == "respondent")
    assert (org.kind, org.credit_code) == ("organisation", ORG_CODE)
    assert org.masked["phone"] == "059*****4321" and org.phone_bidx is None
    assert summary(services, outcome.case_no)["amount"] == 386000.5


def test_the_credit_code_check_digit():
    assert credit_check_digit(ORG_CODE[:17]) == "3"
    assert normalize_credit_code(" 9135 0100 m000 100y43 ") == ORG_CODE
    for bad, code in (("91350100M000100Y44", ErrorCode.CREDIT_CODE_CHECK_DIGIT),
                      ("91350100M000100Y4", ErrorCode.CREDIT_CODE_FORMAT),
                      ("91350100M00010OY43", ErrorCode.CREDIT_CODE_FORMAT)):   # O is no digit
        with pytest.raises(ValueError) as caught:
            normalize_credit_code(bad)
        assert caught.value.error.code == code


def test_organisation_and_person_fields_are_checked(services, clerk):
    errors = refused(services, clerk, request(
        PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], credit_code=ORG_CODE),
        PartyInput(name="某公司", role="respondent", kind="organisation",
                   credit_code="91350100M000100Y44", id_number=IDS["陈立伟"], age=30,
                   vulnerable=["elderly"]),
        PartyInput(name="某合作社", role="third_party", kind="cooperative")))
    assert errors == {
        "parties-0-credit_code": (ErrorCode.ORGANISATION_ONLY, {}),
        "parties-1-credit_code": (ErrorCode.CREDIT_CODE_CHECK_DIGIT, {}),
        "parties-1-id_number": (ErrorCode.PERSON_ONLY, {}),
        "parties-1-age": (ErrorCode.PERSON_ONLY, {}),
        "parties-1-vulnerable": (ErrorCode.PERSON_ONLY, {}),
        "parties-2-kind": (FieldCode.NOT_AN_OPTION, {})}


@pytest.mark.parametrize(("given", "stored"), [
    ("010-62345678", "010-62345678"), ("(021) 6234 5678-123", "021-62345678-123"),
    ("0755 8765432", "0755-8765432"), ("0571-88888888转6", "0571-88888888-6"),
    ("+86 138 1234 5678", "13812345678")])
def test_mobiles_and_landlines_with_area_codes(services, clerk, given, stored):
    outcome = submit(services, clerk, request(PartyInput(name="刘淑芬", phone=given)))
    with services.session_factory() as session:
        party = session.scalars(select(Party).join(CaseParty).join(Case).where(
            Case.case_no == outcome.case_no)).one()
        assert PartyVault.of(services).reveal(party)["phone"] == stored
        assert stored not in str(party.masked) and stored not in party.phone_enc


@pytest.mark.parametrize("bad", ["12345", "010-1234", "62345678", "020-12345678", "电话"])
def test_other_phone_numbers_are_refused(services, clerk, bad):
    assert refused(services, clerk, request(PartyInput(name="刘淑芬", phone=bad))) == {
        "parties-0-phone": (ErrorCode.PHONE_FORMAT, {})}


def test_age_or_birth_date_the_date_encrypted_the_year_shown(services, clerk):
    outcome = submit(services, clerk, request(
        PartyInput(name="孙永福", birth_date="1947-05-06"),
        PartyInput(name="周海燕", role="respondent", age=61)))
    with services.session_factory() as session:
        case = find_case(session, outcome.case_no)
        parties = {p.masked["name"]: p for p in case.parties}
        old = parties["孙**"]
        assert "1947-05-06" not in (old.birth_date_enc or "")
        assert PartyVault.of(services).reveal(old)["birth_date"] == "1947-05-06"
        assert PartyVault.view(old)["birth_year"] == "1947" and old.age is None
        assert parties["周**"].age == 61
    errors = refused(services, clerk, request(
        PartyInput(name="孙永福", age=77, birth_date="1947-05-06"),
        PartyInput(name="周海燕", role="respondent", birth_date="2025-03-04"),
        PartyInput(name="郑雅琪", role="third_party", age=151)))
    assert errors == {"parties-0-age": (ErrorCode.AGE_OR_BIRTH_DATE, {}),
                      "parties-1-birth_date": (ErrorCode.BIRTH_DATE_IN_FUTURE, {}),
                      "parties-2-age": (FieldCode.TOO_LARGE, {"limit": 150})}


@pytest.mark.parametrize(("amount", "error"), [
    (Decimal("-1"), (FieldCode.TOO_SMALL, {"limit": 0})),
    (Decimal("10.005"), (ErrorCode.AMOUNT_DECIMALS, {})),
    (Decimal("10000000000.01"), (FieldCode.TOO_LARGE, {"limit": "10,000,000,000"})),
    (Decimal("NaN"), (ErrorCode.NOT_NUMBER, {}))])
def test_amount_in_dispute_is_checked(services, clerk, amount, error):
    assert refused(services, clerk, request(amount=amount)) == {"amount": error}


def test_a_vulnerable_party_is_called_and_raises_urgency(services, clerk):
    outcome = submit(services, clerk, request(PartyInput(
        name="孙永福", id_number=IDS["孙永福"], phone="13812345678", contact_preference="sms",
        vulnerable=["elderly"])))
    case = the_case(services, outcome.case_no)
    assert case.urgency == "urgent"
    with services.session_factory() as session:
        party = session.scalars(select(Party).join(CaseParty).where(
            CaseParty.case_id == case.id)).one()
        assert party.contact_preference == "phone"
        receipts = session.scalars(select(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.template == "receipt")).all()
        opened = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case_opened", AuditEvent.object_id == case.case_no)).one()
    assert [m.channel for m in receipts] == ["phone"]          # a call task, not an SMS
    assert json.loads(opened.payload)["urgency_raised"] == "vulnerable_party"
    preview = preview_intake(services.new_uow(), clerk, request(PartyInput(
        name="马德顺", id_number=IDS["马德顺"], vulnerable=["disabled"])))
    assert preview.urgency_raised


# -- the sign-off limit from the received time ------------------------------------------------------
@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def noise_case(walk: Walk, *parties: PartyInput, received: datetime) -> str:
    walk.intake(channel="hotline_12345", category="noise", summary="夜间施工噪声",
                description="工地夜间施工", received_at=received,
                parties=list(parties) or [PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"])])
    walk.do("register", category="noise", urgency=the_case(walk.services, walk.case_no).urgency,
            people_count="1", summary="夜间施工噪声")
    return walk.case_no


def armed(walk: Walk) -> dict:
    uow = walk.services.new_uow()
    with uow:
        case = find_case(uow.session, walk.case_no)
        return dict(uow.load_instance(case.workflow_instance_id).armed_timers())


def test_the_sign_off_limit_runs_from_received_at(walk):
    received = local(2025, 3, 3, 7, 0)                         # by the hotline, two hours ago
    noise_case(walk, received=received)
    assert walk.task("sign_off")["due_at"] == local(2025, 3, 4, 7, 0)     # 24 h from receipt
    assert armed(walk)["签收预警（75%）"] == local(2025, 3, 4, 1, 0)        # 18 h from receipt
    walk.clock.set(local(2025, 3, 3, 10, 0))                    # a return does not restart it
    walk.do("sign_off", sign_off_decision="return", return_reason="非本部门职责",
            return_basis="职责清单")
    walk.do("redispatch", department="JD", redispatch_note="改派属地街道")
    assert walk.task("sign_off")["due_at"] == local(2025, 3, 4, 7, 0)
    walk.until(local(2025, 3, 4, 7, 1))
    view = walk.task("sign_off")                               # escalated: the ladder's limit
    assert view["due_at"] == local(2025, 3, 5, 7, 1)


def test_a_vulnerable_party_gets_the_two_hour_limit_from_receipt(walk):
    received = local(2025, 3, 3, 8, 30)
    noise_case(walk, PartyInput(name="孙永福", id_number=IDS["孙永福"], vulnerable=["elderly"]),
               received=received)
    assert walk.task("sign_off")["due_at"] == local(2025, 3, 3, 10, 30)


def test_a_located_report_reaches_the_location_rules(services, clerk):
    # the place found by intake (here by standard address) is the one the location rules use
    first = submit(services, clerk, request(
        PartyInput(name="刘淑芬", phone="13800000001"), category="public_order",
        location=LocationInput(address="青山镇石门村12栋")))
    second = submit(services, clerk, request(
        PartyInput(name="陈立伟", phone="13800000002"), category="public_order",
        location=LocationInput(place_code="B_SM12", detail="楼下")))
    assert (second.kind, second.linked_by, second.case_no) == ("duplicate", "location",
                                                               first.case_no)
