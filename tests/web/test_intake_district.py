"""Intake in the district over the API and the clerk's form: location (code, standard address,
candidates to confirm, none), amount, many parties, organisations, landlines, received_at
bounds; the case page, the task page banner, the case JSON and ``case show --json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.web.conftest import post
from tests.web.test_api import BODY, _token, conforms
from tests.workflows.test_district_intake import ORG_CODE, build_district
from web.commands import cases as case_commands
from workflows.models import Case, CaseParty

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)          # the clock fixture: Mon 09:00 in Beijing
API = "/api/v1/cases"
FORM = {
    "channel": "counter", "category": "neighbour", "urgency": "general", "people_count": "2",
    "summary": "楼上漏水", "description": "楼上卫生间漏水至楼下", "received_at": "2025-03-03T08:30",
    "parties-0-role": "applicant", "parties-0-kind": "person", "parties-0-name": "刘淑芬",
    "parties-0-id_number": "110101196203150020", "parties-0-contact_preference": "sms",
    "parties-1-role": "respondent", "parties-1-kind": "person", "parties-1-name": "陈立伟",
}


@pytest.fixture
def district(services, reference):
    return build_district(services)


@pytest.fixture
def clerk(services, users, process, district):
    return _token(services, "intake_clerk")


def body(**changes) -> dict:
    return {**BODY, **changes}


def created(client, headers, payload) -> dict:
    response = client.post(API, json=payload, headers=headers)
    assert response.status_code == 201, response.get_json()
    return conforms(response, API, "post")


def refused(client, headers, payload) -> dict:
    response = client.post(API, json=payload, headers=headers)
    assert response.status_code == 422, response.get_json()
    conforms(response, API, "post")
    return response.get_json()


def shown(client, headers, case_no: str) -> dict:
    response = client.get(f"{API}/{case_no}", headers=headers)
    assert response.status_code == 200
    return conforms(response, f"{API}/{case_no}")


def cases(services) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Case))


# -- the API ----------------------------------------------------------------------------------
def test_a_place_code_locates_the_case_and_the_case_json_says_where(client, services, clerk):
    received = (NOW - timedelta(hours=2)).isoformat()
    out = created(client, clerk, body(location={"place_code": "B_SM12", "detail": "3单元"},
                                      amount=1200.5, received_at=received))
    case = shown(client, clerk, out["case_no"])
    assert case["location"] == {"place_code": "B_SM12", "names": [
        "示范区", "青山镇", "石门村", "石门村第一网格", "石门村12栋"]}
    assert case["location_detail"] == "3单元" and case["amount"] == 1200.5
    assert case["received_at"] == received and case["registered_at"] == NOW.isoformat()
    assert case["lead_unit"] is None and case["co_units"] == []      # not routed yet


def test_a_similar_address_answers_the_candidates_then_the_chosen_code(client, services, clerk):
    answer = refused(client, clerk, body(location={"address": "石门村12栋", "detail": "车棚"}))
    field = answer["fields"]["location-address"]
    assert field["code"] == "address_candidates"
    assert field["params"]["candidates"][0] == {"code": "B_SM12", "address": "青山镇石门村12栋"}
    assert "候选地址" in answer["errors"]["location-address"]
    assert cases(services) == 0
    out = created(client, clerk, body(location={"place_code": "B_SM12", "detail": "车棚"}))
    assert shown(client, clerk, out["case_no"])["location"]["place_code"] == "B_SM12"


def test_an_exact_address_locates_and_an_unknown_one_is_kept_as_text(client, services, clerk):
    exact = created(client, clerk, body(location={"address": "青山镇石门村13栋"}))
    assert shown(client, clerk, exact["case_no"])["location"]["place_code"] == "B_SM13"
    unknown = created(client, clerk, body(
        location={"address": "环城东路99号", "detail": "路口"},
        parties=[{"name": "马德顺", "phone": "13800000001"}]))
    case = shown(client, clerk, unknown["case_no"])
    assert case["location"] is None and case["location_detail"] == "环城东路99号 路口"
    none_of_them = created(client, clerk, body(
        location={"address": "石门村12栋", "unmatched": True},
        parties=[{"name": "韦春生", "phone": "13800000002"}]))
    assert shown(client, clerk, none_of_them["case_no"])["location"] is None


@pytest.mark.parametrize(("location", "field", "words"), [
    ({"place_code": "NOPE"}, "location-place_code", "没有编码为 NOPE 的在用网格或楼栋"),
    ({"place_code": "T_QS"}, "location-place_code", "T_QS 不是网格或楼栋"),
    ({"place_code": "B_SM12", "address": "青山镇石门村12栋"}, "location", "不要同时填写"),
    ({"where": "x"}, "location-where", "未知字段"),
    ({"address": 12}, "location-address", "应为文本"),
    ({"address": "址" * 121}, "location-address", "最多 120 个字符"),
    ("B_SM12", "location", "对象"),
])
def test_bad_locations_are_field_errors(client, services, clerk, location, field, words):
    answer = refused(client, clerk, body(location=location))
    assert words in answer["errors"][field]
    assert cases(services) == 0


def test_twelve_workers_an_employer_and_landlines(client, services, clerk):
    workers = [{"name": f"工人{n:02d}", "phone": f"1380000{n:04d}"} for n in range(1, 12)]
    workers.append({"name": "工人12", "phone": "(0591) 8765-4321"})
    employer = {"role": "respondent", "kind": "organisation", "name": "宏基建设有限公司",
                "credit_code": ORG_CODE, "phone": "0591-87654321-8"}
    out = created(client, clerk, body(category="labour_collective", people_count=12,
                                      parties=[*workers, employer], amount=386000))
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == out["case_no"])).one()
        assert uow.session.scalar(select(func.count()).select_from(CaseParty).where(
            CaseParty.case_id == case.id)) == 13
    bad = refused(client, clerk, body(parties=[
        BODY["parties"][0], {**employer, "credit_code": ORG_CODE[:-1] + "4"},
        {"name": "某人", "phone": "020-1234567"}, {"name": "某单位", "kind": "company"}]))
    assert bad["errors"] == {
        "parties-1-credit_code": "统一社会信用代码校验码错误（GB 32100），请核对代码",
        "parties-2-phone": "电话应为 11 位手机号，或带区号的固定电话（如 010-62345678，分机写在后面：-123）",
        "parties-3-kind": "请选择列表中的一项"}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"received_at": (NOW + timedelta(minutes=6)).isoformat()}, "received_at",
     "来件时间不能晚于当前时间（允许误差 5 分钟）"),
    ({"received_at": "0001-01-01T00:00:00+08:00"}, "received_at", "年份应在 2000 至 2026 年之间"),
    ({"received_at": "9999-12-31T23:59:59-12:00", "received_late_reason": "补录"}, "received_at",
     "年份应在 2000 至 2026 年之间"),
    ({"received_at": (NOW - timedelta(days=40)).isoformat()}, "received_late_reason",
     "来件时间早于 30 天前，请填写逾期登记的原因"),
    ({"amount": "1200"}, "amount", "应为数字"),
    ({"amount": True}, "amount", "应为数字"),
    ({"amount": -1}, "amount", "不能小于 0"),
    ({"amount": 12.345}, "amount", "最多保留两位小数"),
    ({"amount": 1e12}, "amount", "不能大于 10,000,000,000"),
])
def test_received_at_and_amount_are_checked(client, services, clerk, change, field, words):
    answer = refused(client, clerk, body(**change))
    assert words in answer["errors"][field]
    assert cases(services) == 0


def test_a_late_matter_with_the_clerks_reason_is_registered(client, services, clerk):
    received = (NOW - timedelta(days=40)).isoformat()
    out = created(client, clerk, body(received_at=received, received_late_reason="信访转送延误"))
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == out["case_no"])).one()
        assert case.received_late_reason == "信访转送延误"


def test_the_api_person_fields_age_and_birth_date(client, services, clerk):
    assert refused(client, clerk, body(parties=[{"name": "孙永福", "age": "77"}]))["errors"] \
        == {"parties-0-age": "应为整数"}
    answer = refused(client, clerk, body(parties=[
        {"name": "孙永福", "age": 77}, {"name": "周海燕", "age": 61, "birth_date": "1963-06-06"},
        {"name": "郑雅琪", "birth_date": "1994-13-01"}]))
    assert answer["errors"] == {"parties-1-age": "年龄和出生日期填写其中一项即可",
                                "parties-2-birth_date": "日期格式应为 YYYY-MM-DD"}


def test_case_show_json_has_the_location_units_and_times(app, services, clerk, monkeypatch):
    out = created(app.test_client(), clerk, body(location={"place_code": "G_SM1"}))
    monkeypatch.setattr(case_commands, "cli_services", lambda: services)
    result = CliRunner().invoke(case_commands.case_show, [out["case_no"], "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["location"]["place_code"] == "G_SM1"
    assert data["registered_at"] == NOW.isoformat() and data["received_at"] == NOW.isoformat()
    assert "lead_unit" in data and "co_units" in data


# -- the clerk's form -------------------------------------------------------------------------
def test_a_new_form_starts_from_what_is_known(as_role, district, process):
    page = as_role("intake_clerk").get("/cases/new").get_data(as_text=True)
    assert 'name="received_at"' in page and 'value="2025-03-03T09:00"' in page
    assert 'name="parties-1-role"' in page and 'name="parties-2-role"' not in page
    assert 'id="add-party"' in page and "intake-form.js" in page
    for code in ("organisation", "person", "elderly", "hotline_12345"):
        assert f">{code}<" not in page                      # codes stay values, never text


def test_party_rows_are_added_and_removed_without_javascript(as_role, district, process):
    client = as_role("intake_clerk")
    more = post(client, "/cases/new", {**FORM, "action": "add_party"}).get_data(as_text=True)
    assert 'name="parties-2-role"' in more
    fewer = post(client, "/cases/new", {**FORM, "action": "remove_party-0"})
    page = fewer.get_data(as_text=True)
    assert 'value="陈立伟"' in page and 'value="刘淑芬"' not in page
    assert 'name="parties-1-role"' not in page


def test_the_form_offers_address_candidates_and_saves_the_chosen_place(as_role, services,
                                                                       district, process):
    client = as_role("intake_clerk")
    form = {**FORM, "location-address": "石门村12栋", "location-detail": "车棚"}
    asked = post(client, "/cases/new", {**form, "action": "preview"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'data-testid="address-candidates"' in page
    assert 'name="location-pick" id="pick-1" value="B_SM12"' in page and "青山镇石门村12栋" in page
    assert "都不是：不定位登记" in page
    previewed = post(client, "/cases/new", {**form, "location-pick": "B_SM12",
                                            "action": "preview"}).get_data(as_text=True)
    assert "示范区 / 青山镇 / 石门村 / 石门村第一网格 / 石门村12栋" in previewed
    assert 'name="location-place_code" id="f-location-place_code"' in previewed
    assert 'value="B_SM12"' in previewed                     # the choice stays on the form
    saved = post(client, "/cases/new", {**form, "location-place_code": "B_SM12",
                                        "action": "save"})
    assert saved.status_code == 302
    case_page = client.get(saved.headers["Location"].replace("/receipt", "").split("?")[0])
    text = case_page.get_data(as_text=True)
    assert "石门村 / 石门村第一网格 / 石门村12栋" in text and "车棚" in text


def test_the_case_page_of_an_unlocated_case(as_role, services, district, process):
    client = as_role("intake_clerk")
    form = {**FORM, "location-address": "环城东路99号", "amount": "1,200.50",
            "received_at": "2025-03-03T07:00", "action": "save"}
    saved = post(client, "/cases/new", form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with services.new_uow() as uow:
        case_no = uow.session.scalars(select(Case.case_no)).one()
    text = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "未定位：按区级单位派单" in text and "环城东路99号" in text
    assert "1,200.50 元" in text
    assert "2025-03-03 07:00" in text and "2025-03-03 09:00" in text   # received, registered
    assert "牵头单位" in text and "协办单位" in text


def test_the_form_checks_the_received_time_and_the_parties(as_role, services, district, process):
    client = as_role("intake_clerk")
    late = post(client, "/cases/new", {**FORM, "received_at": "2025-01-01T09:00",
                                       "action": "save"})
    assert late.status_code == 422
    assert "来件时间早于 30 天前，请填写逾期登记的原因" in late.get_data(as_text=True)
    bad = post(client, "/cases/new", {
        **FORM, "parties-1-kind": "organisation", "parties-1-credit_code": "91350100M000100Y44",
        "parties-0-phone": "12345", "parties-0-age": "abc", "action": "save"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and cases(services) == 0
    assert "统一社会信用代码校验码错误" in text and "带区号的固定电话" in text and "应为整数" in text
    saved = post(client, "/cases/new", {
        **FORM, "received_at": "2025-01-01T09:00", "received_late_reason": "邮寄延误",
        "parties-1-kind": "organisation", "parties-1-credit_code": ORG_CODE,
        "parties-1-id_number": "510102197803040015",             # a hidden person field
        "parties-0-phone": "010-62345678", "action": "save"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]


def test_a_vulnerable_party_puts_a_banner_on_every_task_page(as_role, services, district,
                                                             process):
    client = as_role("intake_clerk")
    saved = post(client, "/cases/new", {**FORM, "parties-0-vulnerable-elderly": "true",
                                        "action": "save"})
    assert saved.status_code == 302
    with services.new_uow() as uow:
        case_no, urgency = uow.session.execute(select(Case.case_no, Case.urgency)).one()
    assert urgency == "urgent"
    triage = as_role("triage_officer")
    inbox = triage.get("/inbox").get_data(as_text=True)
    task_url = next(part.split('"')[0] for part in inbox.split('href="')[1:]
                    if f"/cases/{case_no}/tasks/" in part)
    page = triage.get(task_url).get_data(as_text=True)
    assert 'data-testid="vulnerable-banner"' in page and "老年人" in page
    assert "请电话联系" in page
    assert 'data-testid="vulnerable-banner"' in triage.get(
        f"/cases/{case_no}").get_data(as_text=True)


def test_the_place_picker_suggests_grids_and_buildings_by_code_or_name(as_role, district,
                                                                       process):
    client = as_role("intake_clerk")
    text = client.get("/cases/new/places?location-place_code=石门").get_data(as_text=True)
    assert '<option value="B_SM12">示范区 / 青山镇 / 石门村 / 石门村第一网格 / 石门村12栋' in text
    assert '<option value="G_SM1">' in text
    assert 'value="V_SM"' not in text and 'value="B_OLD"' not in text   # village; inactive
    assert "B_HX2" in client.get("/cases/new/places?location-place_code=b_hx").get_data(
        as_text=True)
    assert client.get("/cases/new/places").get_data(as_text=True).strip() == ""
    assert as_role("mediator").get("/cases/new/places?location-place_code=石门").status_code \
        == 403
