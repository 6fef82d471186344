"""The case list on the page and in the API: one query module, the caller's scope, filters,
free text (words, place names, a whole ID number or mobile number through the blind index),
field errors for bad parameters and a constant number of SQL statements per page."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from engine.models import AuditEvent
from tests.district_fixtures import build_district
from tests.web.conftest import login
from tests.web.test_access_matrix import _actor
from tests.web.test_access_matrix import _user as add_user
from tests.web.test_api import conforms
from workflows.access import tokens
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Department, WorkOrder
from workflows.models.search_text import case_terms, fts_text, search_terms, tsvector_literal

QS_PERSON = {"name": "周海燕", "phone": "13912345678", "id_number": "310101196306060025"}
BS_PERSON = {"name": "刘淑芬", "phone": "13787654321", "id_number": "110101196203150020"}


def _register(services, clerk: str, person: dict, summary: str, category: str = "labour") -> str:
    request = IntakeRequest(
        channel="counter", category=category, description="详情见附件。", summary=summary,
        parties=[PartyInput(name=person["name"], phone=person["phone"],
                            id_number=person["id_number"], role="applicant")])
    return submit_intake(services.new_uow(), _actor(services, clerk), request).case_no


def _place(services, district, case_no: str, place: str, lead: str) -> None:
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        unit = uow.session.scalar(select(Department.id).where(Department.code == lead))
        case.place_id, case.place_path = district.places[place], district.paths[place]
        case.tier, case.lead_department_id = "street", unit
        uow.session.add(WorkOrder(case_id=case.id, department_id=unit, round=1, role="lead",
                                  status="dispatched", dispatched_at=uow.clock.now()))
        uow.commit()


@pytest.fixture
def world(services, reference, process):
    """A QS township case about carpenters, a QS case about an elevator, a BS case about
    carpenters; a QS supervisor (sees QS) and a BS clerk."""
    district = build_district(services)
    add_user(services, "qs_clerk", "intake_clerk", "QS-ZZ")
    add_user(services, "qs_supervisor", "supervisor", "QS-ZZ")
    add_user(services, "bs_clerk", "intake_clerk", "BS-ZZ")
    carpenters = _register(services, "qs_clerk", QS_PERSON, "12名木工被拖欠工资")
    elevator = _register(services, "qs_clerk", {**QS_PERSON, "id_number": "", "phone": ""},
                         "电梯停运", category="property")
    foreign = _register(services, "bs_clerk", BS_PERSON, "木工欠薪")
    _place(services, district, carpenters, "QS-SM-G1-B3", "QS-JDTJ")
    _place(services, district, elevator, "QS-SM-G1", "QS-JDTJ")
    _place(services, district, foreign, "BS-HT-G1-B1", "BS-JDTJ")
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username="qs_supervisor",
                                channel="hotline_12345")
    return {"carpenters": carpenters, "elevator": elevator, "foreign": foreign,
            "district": district,
            "headers": {"Authorization": f"Bearer {issued.token}"}}


def _codes(client, world, **params) -> list[str]:
    response = client.get("/api/v1/cases", query_string=params, headers=world["headers"])
    body = conforms(response, "/api/v1/cases")
    assert response.status_code == 200, body
    assert body["total"] == len(body["cases"]) or body["total"] > body["per_page"]
    return [row["case_no"] for row in body["cases"]]


def test_the_api_lists_the_callers_cases_newest_first_without_personal_data(client, world):
    response = client.get("/api/v1/cases", headers=world["headers"])
    body = conforms(response, "/api/v1/cases")
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 25
    assert [row["case_no"] for row in body["cases"]] == [world["elevator"], world["carpenters"]]
    carpenters = body["cases"][1]
    assert carpenters["location"]["names"] == ["临江区", "青山镇", "石门村", "石门村第一网格",
                                              "石门村3组12号"]
    assert carpenters["lead_unit"] == {"code": "QS-JDTJ", "name": "青山镇人民调解委员会"}
    text = response.get_data(as_text=True)
    assert not [v for v in (*QS_PERSON.values(), "139****5678") if v in text]


def test_filters_narrow_the_list(client, world):
    assert _codes(client, world, category="labour") == [world["carpenters"]]
    assert _codes(client, world, place="QS-SM-G1-B3") == [world["carpenters"]]
    assert _codes(client, world, place="QS-SM") == [world["elevator"], world["carpenters"]]
    assert _codes(client, world, place="BS") == []
    assert _codes(client, world, **{"from": "2025-03-03", "to": "2025-03-03"}) == \
        [world["elevator"], world["carpenters"]]
    assert _codes(client, world, **{"from": "2025-03-04"}) == []
    assert _codes(client, world, per_page="1", page="2") == [world["carpenters"]]


def test_free_text_finds_a_word_of_the_summary_a_place_name_and_a_whole_id_number(
        client, world, services):
    assert _codes(client, world, q="木工") == [world["carpenters"]]        # not BS's carpenters
    assert _codes(client, world, q="石门村3组") == [world["carpenters"]]   # a building's name
    assert _codes(client, world, q="石门村") == [world["elevator"], world["carpenters"]]
    assert _codes(client, world, q="木工 石门村") == [world["carpenters"]]  # every word
    assert _codes(client, world, q=world["carpenters"]) == [world["carpenters"]]
    assert _codes(client, world, q=QS_PERSON["id_number"]) == [world["carpenters"]]
    assert _codes(client, world, q="+86 139-1234-5678") == [world["carpenters"]]
    assert _codes(client, world, q=QS_PERSON["id_number"][:14]) == []      # never in part
    assert _codes(client, world, q="1391234567") == []
    assert _codes(client, world, q=BS_PERSON["id_number"]) == []           # out of scope
    with services.new_uow() as uow:
        searched = uow.session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == "parties_searched")).all()
    searched = [p for p in searched if '"case_search"' in p]
    assert len(searched) == 3   # the searches that used the blind index, kinds only
    assert QS_PERSON["id_number"] not in str(searched) and "13912345678" not in str(searched)


@pytest.mark.parametrize(("params", "fields"), [
    ({"category": "bogus"}, {"category"}),
    ({"status": "x", "tier": "y"}, {"status", "tier"}),
    ({"from": "2025-13-01"}, {"from"}),
    ({"from": "2025-03-05", "to": "2025-03-01"}, {"to"}),
    ({"page": "0"}, {"page"}),
    ({"page": "abc", "per_page": "1000"}, {"page", "per_page"}),
    ({"place": "NOWHERE"}, {"place"}),
    ({"q": "木" * 101}, {"q"}),
    ({"kpi": "K-99"}, {"kpi"}),
])
def test_bad_parameters_are_422_naming_the_fields(client, world, params, fields):
    response = client.get("/api/v1/cases", query_string=params, headers=world["headers"])
    body = conforms(response, "/api/v1/cases")
    assert response.status_code == 422 and set(body["errors"]) == fields


def test_the_page_keeps_the_search_and_filters(app, world):
    client = app.test_client()
    assert login(client, "qs_supervisor").status_code == 302
    response = client.get("/cases", query_string={"q": "木工", "category": "labour"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert world["carpenters"] in html and world["elevator"] not in html
    assert world["foreign"] not in html
    assert 'value="木工"' in html and '<option value="labour" selected>' in html


def _statements(services, call) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = services.db
    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_page_costs_the_same_statements_whatever_its_size(client, world, services):
    for n in range(6):
        code = _register(services, "qs_clerk", {**QS_PERSON, "id_number": "", "phone": ""},
                         f"第{n}批木工欠薪")
        _place(services, world["district"], code, "QS-SM-G1-B3", "QS-JDTJ")

    def page(size: int, **params):
        def call():
            response = client.get("/api/v1/cases", headers=world["headers"],
                                  query_string={"per_page": str(size), **params})
            assert len(response.get_json()["cases"]) == size

        return call

    page(1)()   # the token's first use of the minute writes its last-used time
    assert _statements(services, page(1)) == _statements(services, page(8)) <= 12
    assert _statements(services, page(1, q="木工")) == _statements(services, page(7, q="木工"))
    from workflows.cases import listing  # beyond the bound: the newest rows of each part
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(listing, "COUNT_BOUND", 2)
        patch.setattr(listing, "PAGES_AHEAD", 0)
        assert _statements(services, page(1, q="木工")) == _statements(services, page(2, q="木工"))
        assert _statements(services, page(1)) == _statements(services, page(2)) <= 12


def test_the_page_costs_the_same_statements_with_2_or_8_rows(app, world, services):
    client = app.test_client()
    assert login(client, "qs_supervisor").status_code == 302
    client.get("/cases")
    few = _statements(services, lambda: client.get("/cases"))
    for n in range(6):
        code = _register(services, "qs_clerk", {**QS_PERSON, "id_number": "", "phone": ""},
                         f"第{n}批木工欠薪")
        _place(services, world["district"], code, "QS-SM-G1-B3", "QS-JDTJ")
    assert _statements(services, lambda: client.get("/cases")) == few


def test_search_terms_are_bigrams_and_each_runs_last_character():
    assert search_terms("JF-2025-7", "木工工资") == "jf f 20 02 25 5 7 木工 工工 工资 资"


@pytest.mark.parametrize(("q", "found"), [
    ("木", True), ("资", True), ("木工", True), ("工被拖", True), ("被拖欠工资", True),
    ("拖工", False), ("木匠", False), ("3号门", True), ("东侧3号门", True), ("3号楼", False),
    ("jf", True), ("JF-2025-00000", True),
])
def test_free_text_is_any_run_of_characters(client, world, services, q, found):
    with services.new_uow() as uow:
        find_case(uow.session, world["carpenters"]).location_detail = "工地东侧3号门"
        uow.commit()
    assert (world["carpenters"] in _codes(client, world, q=q)) is found


def test_the_search_follows_a_changed_summary_in_the_same_transaction(client, world, services):
    with services.new_uow() as uow:
        case = find_case(uow.session, world["elevator"])
        case.summary = "电梯恢复运行后的物业费争议"
        uow.commit()
    assert _codes(client, world, q="恢复运行") == [world["elevator"]]
    assert _codes(client, world, q="电梯停运") == []


def test_a_word_with_a_category_or_place_follows_a_changed_category_and_place(
        client, world, services):
    assert _codes(client, world, q="木工", category="labour") == [world["carpenters"]]
    with services.new_uow() as uow:
        find_case(uow.session, world["carpenters"]).category = "property"
        uow.commit()
    assert _codes(client, world, q="木工", category="labour") == []
    assert _codes(client, world, q="木工", category="property") == [world["carpenters"]]
    district = world["district"]
    with services.new_uow() as uow:   # the two cases swap places
        for code, place in ((world["elevator"], "QS-SM-G1-B3"), (world["carpenters"], "QS-SM-G1")):
            case = find_case(uow.session, code)
            case.place_id, case.place_path = district.places[place], district.paths[place]
        uow.commit()
    assert _codes(client, world, q="木工", place="QS-SM-G1-B3") == []
    assert _codes(client, world, q="电梯", place="QS-SM-G1-B3") == [world["elevator"]]
    assert _codes(client, world, q="木工", place="QS-SM", category="property") == \
        [world["carpenters"]]


def test_the_category_and_places_a_case_stores_never_meet_a_search_word(client, world):
    terms = case_terms("JF-7", "木工", None, "labour_collective", "/1/2/")
    assert terms == "jf f 7 木工 工 /c/labour_collective /p/1 /p/2"
    assert fts_text(terms) == "jf f 7 木工 工"     # SQLite's FTS5 would cut them into words
    assert tsvector_literal(terms) == \
        "'jf':1 'f':2 '7':3 '木工':4 '工':5 '/c/labour_collective' '/p/1' '/p/2'"
    for word in ("c", "p", "labour", "property"):
        assert _codes(client, world, q=word) == []


def test_beyond_the_count_bound_the_list_says_at_least(client, world, monkeypatch):
    from workflows.cases import listing
    monkeypatch.setattr(listing, "COUNT_BOUND", 1)
    monkeypatch.setattr(listing, "PAGES_AHEAD", 0)
    response = client.get("/api/v1/cases", query_string={"per_page": "1"},
                          headers=world["headers"])
    body = conforms(response, "/api/v1/cases")
    assert (body["total"], body["total_exact"], len(body["cases"])) == (1, False, 1)
    body = client.get("/api/v1/cases", query_string={"per_page": "1", "page": "2"},
                      headers=world["headers"]).get_json()
    assert (body["total"], body["total_exact"]) == (2, True)     # the bound grows with the page
    import web.cases
    monkeypatch.setattr(web.cases, "LIST_PAGE", 1)
    login(client, "qs_supervisor")
    page = client.get("/cases").get_data(as_text=True)
    assert "共 1+ 条" in page


@pytest.mark.parametrize("language, at_least, exactly", [
    ("zh-CN", "共 1+ 条", "共 2 条"), ("en-US,en;q=0.9", "1+ in all", "2 in total")])
def test_the_page_says_at_least_beyond_the_bound_in_each_language(
        client, world, monkeypatch, language, at_least, exactly):
    """Beyond the bound the list says "at least" in the reader's words and links the next page;
    the page that reaches the end knows the exact figure."""
    import web.cases
    from workflows.cases import listing
    monkeypatch.setattr(listing, "COUNT_BOUND", 1)
    monkeypatch.setattr(listing, "PAGES_AHEAD", 0)
    monkeypatch.setattr(web.cases, "LIST_PAGE", 1)
    login(client, "qs_supervisor")
    headers = {"Accept-Language": language}
    first = client.get("/cases", headers=headers).get_data(as_text=True)
    assert at_least in first and "page=2" in first
    assert (world["elevator"] in first) != (world["carpenters"] in first)   # one row a page
    last = client.get("/cases?page=2", headers=headers).get_data(as_text=True)
    assert exactly in last and at_least not in last
