"""The intake assistant in use: the JSON endpoint (intake clerks only, bad input 4xx, nothing
logged), what registration records (suggested and final category, flags, audited, no text),
red-flag reviews, the accuracy page's figures, retraining that refuses a worse model, and the
``jiefen assistant`` commands."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.errors import ConcurrentUpdate
from engine.models import AuditEvent, OutboxMessage
from tests.cli_support import jiefen
from tests.web.conftest import csrf_token, new_case, post
from workflows.access.policy import Denied
from workflows.assistant import records, retrain, training
from workflows.assistant.model import shipped
from workflows.assistant.suggest import current_model
from workflows.cases.lookup import encrypt_narrative
from workflows.core.actors import SYSTEM
from workflows.models import AssistantModel, Case, CaseStatus, IntakeSuggestion
from workflows.people.departments import seed_reference_data

SUGGEST = "/assistant/suggest"
WAGES = "城西街道某工地三十多名农民工被拖欠工资126万元，工人们扬言要去区政府讨说法"
LEAK = "楼上漏水，对方电话13912345678"


def ask(client, text, **headers):
    token = csrf_token(client, "/inbox")
    return client.post(SUGGEST, json={"description": text},
                       headers={"X-CSRFToken": token, "Accept": "application/json", **headers})


def rows(services) -> list[IntakeSuggestion]:
    with services.new_uow() as uow:
        found = list(uow.session.scalars(select(IntakeSuggestion).order_by(IntakeSuggestion.id)))
        uow.session.expunge_all()
        return found


def events(services, action: str) -> list[AuditEvent]:
    with services.new_uow() as uow:
        found = list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                         .order_by(AuditEvent.id)))
        uow.session.expunge_all()
        return found


# -- the endpoint ---------------------------------------------------------------------------------
def test_the_clerk_gets_categories_flags_and_points_in_chinese(as_role, caplog):
    client = as_role("intake_clerk")
    with caplog.at_level(logging.DEBUG):
        response = ask(client, WAGES)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["categories"][0] == {"code": "labour_collective", "label": "劳资/欠薪（群体或建筑领域）",
                                       "score": answer["categories"][0]["score"]}
    assert len(answer["categories"]) >= 3
    assert {f["code"]: f["label"] for f in answer["flags"]} == {
        "threat": "扬言威胁", "gathering": "聚集上访", "mass_wage_arrears": "群体讨薪（10人以上）"}
    assert answer["urgency"] == "urgent" and answer["urgency_label"] == "紧急"
    assert answer["points"]["amount"] == "1260000.00" and answer["points"]["people"] == 30
    assert "农民工" not in caplog.text and "126万" not in caplog.text    # the text is not logged


@pytest.mark.parametrize("role", ["mediator", "dept_handler", "supervisor", "auditor"])
def test_only_those_who_register_cases_may_ask(as_role, services, role):
    response = ask(as_role(role), WAGES)
    assert response.status_code == 403
    assert events(services, "access_denied")[-1].object_type == "intake"


def test_anonymous_requests_get_no_suggestion(client):
    response = client.post(SUGGEST, json={"description": WAGES})
    assert response.status_code in (302, 400, 401)
    assert b"labour" not in response.data


@pytest.mark.parametrize(("body", "words"), [
    ({"description": ""}, "必填"), ({"description": "  "}, "必填"), ({}, "必填"),
    ({"description": 12}, "必填"), ({"description": "漏" * 5001}, "5000"),
    ({"description": LEAK}, "手机号"),
])
def test_bad_input_is_a_field_error_not_a_suggestion(as_role, body, words):
    client = as_role("intake_clerk")
    token = csrf_token(client, "/inbox")
    response = client.post(SUGGEST, json=body,
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 422
    assert words in response.get_json()["errors"]["description"]


def test_the_endpoint_takes_a_post_only_and_needs_the_csrf_token(as_role):
    client = as_role("intake_clerk")
    assert client.get(SUGGEST).status_code == 405
    response = client.post(SUGGEST, json={"description": WAGES},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400


# -- what registration records ----------------------------------------------------------------------
def test_registration_records_the_suggestion_next_to_the_clerks_choice(services, users, process):
    accepted = new_case(services, users, category="labour_collective", description=WAGES)
    overridden = new_case(services, users, category="other", phone="13912345679",
                          description="小区三部电梯经常困人，全楼两百多户要求用维修资金更换电梯")
    first, second = rows(services)
    assert (first.suggested, first.final_category, first.accepted, first.in_top3) == (
        "labour_collective", "labour_collective", True, True)
    assert (second.suggested, second.final_category, second.accepted) == (
        "property_collective", "other", False)
    assert first.flags == ["threat", "gathering", "mass_wage_arrears"]
    assert first.review_state == "pending" and second.review_state is None
    assert str(first.amount) == "1260000.00" and first.model_sha == shipped().sha256
    suggested = events(services, "assistant_suggested")
    assert [e.object_id for e in suggested] == [str(first.id), str(second.id)]
    payload = json.loads(suggested[0].payload)
    assert payload["suggested"] == "labour_collective" and payload["accepted"] is True
    assert all("农民工" not in e.payload for e in suggested)          # codes, never the text
    with services.new_uow() as uow:
        notice = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "red_flag")).one()
        assert (notice.recipient_type, notice.recipient_id) == ("role", "triage_officer")
        assert notice.params == {"case_no": accepted, "flags": "扬言威胁、聚集上访、群体讨薪"}
    assert overridden != accepted
    assert [e.object_id for e in events(services, "red_flag_raised")] == [str(first.id)]


def test_the_form_records_that_the_clerk_saw_the_suggestion(as_role, services, process):
    client = as_role("intake_clerk")
    form = {"channel": "counter", "category": "family", "urgency": "general", "people_count": "1",
            "summary": "赡养纠纷", "description": "我爸妈年纪大了，弟弟不肯出赡养费",
            "received_at": "2025-03-03T08:30", "parties-0-role": "applicant",
            "parties-0-kind": "person", "parties-0-name": "刘淑芬", "assistant-shown": "true",
            "action": "save"}
    response = post(client, "/cases/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    (row,) = rows(services)
    assert row.shown is True and row.accepted is True and row.final_category == "family"


def test_a_person_reviews_a_red_flag_once(services, users, process, as_role):
    case_no = new_case(services, users, category="labour_collective", description=WAGES)
    (row,) = rows(services)
    with pytest.raises(Denied):
        records.review(services.new_uow(), users.actor("mediator"), row.id, "confirmed")
    triage = users.actor("triage_officer")
    assert [r["case_no"] for r in records.pending_reviews(services.new_uow(), triage)] == [case_no]
    done = records.review(services.new_uow(), triage, row.id, "confirmed")
    assert done == {"id": row.id, "state": "confirmed", "case_no": case_no}
    with pytest.raises(ConcurrentUpdate):
        records.review(services.new_uow(), users.actor("supervisor"), row.id, "dismissed")
    assert records.pending_reviews(services.new_uow(), triage) == []
    (event,) = events(services, "red_flag_reviewed")
    assert json.loads(event.payload)["outcome"] == "confirmed"
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).one()
        assert case.category == "labour_collective"     # the flag routed nothing by itself


def test_the_case_page_shows_the_flag_and_the_triage_officer_decides_there(
        services, users, process, as_role):
    case_no = new_case(services, users, category="labour_collective", description=WAGES)
    client = as_role("triage_officer")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'data-testid="red-flags"' in page and "扬言威胁" in page and "待复核" in page
    (row,) = rows(services)
    response = post(client, f"/assistant/reviews/{row.id}", {"outcome": "dismissed",
                                                             "back": "case"})
    assert response.status_code == 302 and response.headers["Location"].endswith(case_no)
    assert "排除风险" in client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert post(client, f"/assistant/reviews/{row.id}", {"outcome": "dismissed"}).status_code == 409
    assert post(client, f"/assistant/reviews/{row.id + 99}",
                {"outcome": "dismissed"}).status_code == 404
    assert post(client, f"/assistant/reviews/{row.id}", {"outcome": "maybe"}).status_code == 422


def test_the_reviews_list_is_for_triage_and_supervisors(services, users, process, as_role):
    case_no = new_case(services, users, category="labour_collective", description=WAGES)
    page = as_role("supervisor").get("/assistant/reviews").get_data(as_text=True)
    assert case_no in page and "群体讨薪" in page
    assert as_role("intake_clerk").get("/assistant/reviews").status_code == 403


# -- accuracy ------------------------------------------------------------------------------------
def test_accuracy_figures_by_final_category_for_supervisors(services, users, process, as_role):
    new_case(services, users, category="labour_collective", description=WAGES)
    new_case(services, users, category="family", phone="13912345679",
             description="我爸妈年纪大了，弟弟不肯出赡养费，也不让老人住他家")
    new_case(services, users, category="other", phone="13912345670",
             description="小区三部电梯经常困人，全楼两百多户要求用维修资金更换电梯")
    page = records.accuracy(services.new_uow(), users.actor("supervisor"), days=30)
    assert (page.overall.total, page.overall.accepted, page.flags_raised) == (3, 2, 1)
    assert page.overall.top1 == pytest.approx(2 / 3)
    by = {r.category: r for r in page.rows}
    assert by["other"].top1 == 0 and by["family"].top1 == 1
    assert page.confusions == [("property_collective", "other", 1)]
    html = as_role("supervisor").get("/assistant/accuracy?days=30").get_data(as_text=True)
    assert "66.7%" in html and "物业纠纷（群体/电梯/安全） → 其他：1" in html
    # a leader sees only escalated cases: none of these
    assert records.accuracy(services.new_uow(), users.actor("leader")).overall.total == 0
    assert as_role("intake_clerk").get("/assistant/accuracy").status_code == 403


# -- retraining ------------------------------------------------------------------------------------
@pytest.fixture
def small_set(tmp_path) -> Path:
    """Three categories of the labelled set: quick to cross-validate."""
    keep = [s for s in training.read_labelled() if s[0] in ("family", "labour", "noise")]
    path = tmp_path / "small.tsv"
    path.write_text("".join(f"{c}\t{t}\n" for c, t in keep), encoding="utf-8")
    return path


def _active(services, cv_top1: float) -> None:
    with services.new_uow() as uow:
        uow.session.add(AssistantModel(active=True, sha256=shipped().sha256, samples=1,
                                       closed_cases=0, cv_top1=cv_top1, cv_top3=cv_top1,
                                       body=shipped().to_bytes()))
        uow.commit()


def test_retraining_refuses_a_model_worse_than_the_current_one(services, small_set):
    _active(services, 0.999)
    result = retrain.retrain(services.new_uow(), SYSTEM, labelled=small_set, folds=2)
    assert result.replaced is False and result.candidate.top1 < 0.999
    with services.new_uow() as uow:
        assert uow.session.scalar(select(AssistantModel.id).where(
            AssistantModel.active.is_(True))) is not None
        assert len(uow.session.scalars(select(AssistantModel)).all()) == 1
        assert current_model(uow.session).sha256 == shipped().sha256
    (event,) = events(services, "assistant_retrained")
    assert json.loads(event.payload)["replaced"] is False


def test_retraining_replaces_a_worse_model_and_uses_enough_closed_cases(services, small_set,
                                                                        reference):
    _active(services, 0.5)
    with services.new_uow() as uow:
        for n, text in enumerate(["老板拖欠我两个月工资不给", "公司辞退我不给经济补偿"]):
            case = Case(case_no=f"JF-2025-9{n:04d}", channel="counter", category="labour",
                        status=CaseStatus.CLOSED)
            case.narrative_enc = encrypt_narrative(services, case.case_no, text)
            uow.session.add(case)
        uow.commit()
    result = retrain.retrain(services.new_uow(), SYSTEM, labelled=small_set, folds=2,
                             min_closed=2)
    assert result.replaced is True and result.closed == 2 and result.candidate.top1 > 0.5
    with services.new_uow() as uow:
        active = uow.session.scalars(select(AssistantModel).where(
            AssistantModel.active.is_(True))).one()
        assert active.id == result.model_id and active.closed_cases == 2
        model = current_model(uow.session)
        assert model.sha256 == active.sha256 != shipped().sha256
    assert set(model.classes) == {"family", "labour", "noise"}
    too_few = retrain.retrain(services.new_uow(), SYSTEM, labelled=small_set, folds=2,
                              min_closed=3)
    assert too_few.closed == 0 and too_few.closed_found == 2


# -- the commands ----------------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path, committed_services, settings):
    with committed_services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    return {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
            "JIEFEN_KEYS_FILE": str(settings.keys_path), "JIEFEN_SECRET_KEY": "cli-test",
            "DATABASE_URL": committed_services.settings.database}


def test_cli_suggest_prints_the_json_shape(env):
    result = jiefen(env, "assistant", "suggest", "--json", WAGES)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert [c["code"] for c in answer["categories"]][0] == "labour_collective"
    assert len(answer["categories"]) >= 3 and all(set(c) == {"code", "score"}
                                                   for c in answer["categories"])
    assert [f["code"] for f in answer["flags"]] == ["threat", "gathering", "mass_wage_arrears"]
    assert answer["points"]["amount"] == "1260000.00"
    plain = jiefen(env, "assistant", "suggest", WAGES)
    assert "labour_collective" in plain.stdout and "须人工复核：扬言威胁" in plain.stdout
    refused = jiefen(env, "assistant", "suggest", "--json", LEAK)
    assert refused.exit_code == 1 and "手机号" in refused.stderr


def test_cli_retrain_exits_non_zero_when_it_refuses(env, committed_services, small_set):
    _active(committed_services, 0.999)
    result = jiefen(env, "assistant", "retrain", "--labelled", str(small_set), "--folds", "2")
    assert result.exit_code == 1
    assert "交叉验证" in result.stdout and "未替换" in result.stderr
