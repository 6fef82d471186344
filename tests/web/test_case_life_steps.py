"""Steps of one case's life as its users see them: signing the agreement (签署调解协议书) and
the result report (提交办结报告) after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.bpmn.test_services_mediation import c01, to_mediation  # noqa: F401 (fixture)
from tests.factories import Walk
from tests.web.conftest import PASSWORD, login, post
from tests.web.test_pages_in_words import visible_text
from workflows.access.policy import actor_for_user
from workflows.core.actors import SYSTEM
from workflows.core.errors import InvalidInput
from workflows.models import User
from workflows.people import admin


def _street_mediator(app, services, walk: Walk):
    """钱调解 of the street committee, the walk's mediator; ``_sign_in`` signs them in (after
    the walk's sessions: recording attendance moves the clock past a sign-in's idle limit)."""
    admin.create_user(services.new_uow(), SYSTEM, username="jdtj_med", password=PASSWORD,
                      roles=["mediator"], department_code="JDTJ", display_name="钱调解")
    with services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == "jdtj_med")).one()
        walk.users[("mediator", "JDTJ")] = actor_for_user(user)


def _sign_in(app):
    client = app.test_client()
    login(client, "jdtj_med")
    return client


def _to_signing(walk: Walk) -> None:
    to_mediation(walk)
    walk.do("confirm_consent", consent="both_agree", consent_note="双方同意")
    walk.do("assign_mediator", mediator_id="jdtj_med", mediator_chosen_by="committee",
            conflict_check="no_conflict")
    walk.do("register_mediation", rights_notice_acknowledged="true",
            mediation_publicity="non_public", mediation_registration_note="登记")
    walk.session("双方协商", "agreement")
    walk.do("choose_agreement_form", agreement_form="written")
    walk.do("draft_agreement", agreement_facts="502室卫生间防水层老化渗漏至402室",
            agreement_disputed_matters="维修责任与费用", agreement_responsibilities="502室承担主要责任",
            agreement_terms="被申请人修复防水并赔偿申请人维修费4000元", performance_manner="一次性转账",
            performance_period="statutory_days(15)", jc_intended="false")


def _step(walk: Walk, bpmn_id: str) -> str:
    return f"/cases/{walk.case_no}/tasks/{walk.task(bpmn_id)['task_id']}"


BOXES = ("parties_signed", "mediator_signed", "committee_sealed")


def _field(page: str, name: str) -> str:
    """The words of one form field's block (its label, input and error)."""
    return visible_text(page.split(f'data-field="{name}"')[1].split('data-field=')[0]
                        .split(">", 1)[1])


def test_all_signed_with_no_box_ticked_is_refused_on_the_form(app, services, c01):  # noqa: F811
    """已全部签署 with none of the three signatures ticked is a contradiction: the mediator is
    asked under the boxes, what they chose stays, and the step is not silently repeated."""
    _street_mediator(app, services, c01)
    _to_signing(c01)
    mediator = _sign_in(app)
    step = _step(c01, "sign_agreement")
    answer = post(mediator, step, {"signing_outcome": "signed",
                                   "agreement_effective_date": "2025-03-03"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    for box in BOXES:
        assert "请勾选已签署的各方" in _field(page, box)
    assert '<option value="signed" selected>' in page and 'value="2025-03-03"' in page
    assert "已提交" not in visible_text(page)
    assert c01.ids() == ["sign_agreement"]


def test_all_signed_names_the_signature_still_missing(app, services, c01):  # noqa: F811
    _street_mediator(app, services, c01)
    _to_signing(c01)
    mediator = _sign_in(app)
    answer = post(mediator, _step(c01, "sign_agreement"),
                  {"signing_outcome": "signed", "parties_signed": "true",
                   "committee_sealed": "true", "agreement_effective_date": "2025-03-03"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "请勾选已签署的各方" in _field(page, "mediator_signed")
    assert "请勾选已签署的各方" not in _field(page, "parties_signed")
    assert page.count("checked") == 2                      # the two ticked boxes stay ticked
    answer = post(mediator, _step(c01, "sign_agreement"),
                  {"signing_outcome": "signed", "parties_signed": "true", "mediator_signed": "true",
                   "committee_sealed": "true", "agreement_effective_date": "2025-03-03"})
    assert answer.status_code == 302 and c01.ids() != ["sign_agreement"]


def test_a_refusal_needs_no_signature(app, services, c01):  # noqa: F811
    _street_mediator(app, services, c01)
    _to_signing(c01)
    with pytest.raises(InvalidInput):
        c01.do("sign_agreement", signing_outcome="signed", parties_signed="true",
               mediator_signed="false", committee_sealed="true",
               agreement_effective_date="2025-03-03")
    c01.do("sign_agreement", signing_outcome="refused", agreement_effective_date="2025-03-03")
    assert c01.ids() == ["terminate_mediation"]


def _performed(walk: Walk, clock) -> None:
    """The agreement signed, its 15 days run out, the return visit finds it performed."""
    walk.do("sign_agreement", signing_outcome="signed", parties_signed="true",
            mediator_signed="true", committee_sealed="true", agreement_effective_date="2025-03-03")
    walk.until(clock.now() + timedelta(days=16))
    walk.do("performance_check", performed="performed", performance_note="已付款")


def test_result_report_starts_from_the_agreement_performed_in_words(app, services, clock,
                                                                     c01):  # noqa: F811
    """After a signed and performed agreement the result report starts at 协议化解, and no
    outcome shows its code (R1-R5) to the handler."""
    _street_mediator(app, services, c01)
    admin.create_user(services.new_uow(), SYSTEM, username="jdtj_lead", password=PASSWORD,
                      roles=["dept_handler"], department_code="JDTJ", display_name="宋承办")
    _to_signing(c01)
    _performed(c01, clock)
    handler = app.test_client()
    login(handler, "jdtj_lead")
    page = handler.get(_step(c01, "submit_result")).get_data(as_text=True)
    outcome = page.split('name="outcome"')[1].split("</select>")[0]
    assert '<option value="R1" selected>协议化解</option>' in outcome
    words = visible_text(page)
    assert "协议化解" in words and "行政处理化解" in words
    for code in ("R1", "R2", "R3", "R4", "R5"):
        assert code not in words
