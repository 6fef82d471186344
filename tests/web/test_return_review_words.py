"""退单审核 as the triage officer reads it: the unit that sent the order back by its own name (the
township's unit the case was routed to, not the kind of department), with its reason and basis."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import IDS, Walk
from tests.web.conftest import PASSWORD, login
from tests.web.test_pages_in_words import visible_text
from tests.workflows.test_district_intake import build_district
from workflows.access.policy import actor_for_user
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.intake.location import LocationInput
from workflows.models import Department, User
from workflows.people import admin

UNITS = (("QS_CG", "青山镇综合行政执法队", "CG"), ("QS_XZ", "青山镇人民政府", "XZ"))


@pytest.fixture
def walk(services, clock) -> Walk:
    """A noise case at 石门村12栋 in 青山镇: its lead kind CG and co kind JD resolve to the
    township's own units."""
    walk = Walk.ready(services, clock)
    places = build_district(services)
    with services.new_uow() as uow:
        for code, name, kind in UNITS:
            uow.session.add(Department(code=code, name=name, kind=kind, tier="street",
                                       place_id=places["T_QS"], responsibilities=[]))
        uow.commit()
    for username, role, dept in (("qs_cg", "dept_handler", "QS_CG"),
                                 ("qs_xz", "dept_handler", "QS_XZ"),
                                 ("zz_triage", "triage_officer", "ZZ")):
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], department_code=dept)
    walk.intake(channel="hotline_12345", category="noise", summary="夜间施工噪声",
                description="村口工地夜间施工噪声扰民", location=LocationInput(place_code="B_SM12"),
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678")])
    walk.do("register", category="noise", urgency="general", people_count="1",
            summary="夜间施工噪声")
    return walk


def _actor(services, username: str):
    with services.session_factory() as session:
        return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def _instructions(app, walk: Walk, bpmn_id: str) -> str:
    triage = app.test_client()
    login(triage, "zz_triage")
    page = triage.get(f"/cases/{walk.case_no}/tasks/{walk.task(bpmn_id)['task_id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return visible_text(html.split('data-testid="instructions"')[1].split("</div>")[0])


def test_the_return_review_names_the_returning_unit_its_reason_and_basis(app, services, walk):
    walk.do("sign_off", actor=_actor(services, "qs_cg"), sign_off_decision="return",
            return_reason="工地噪声属生态环境部门职责", return_basis="部门职责清单第3条")
    words = _instructions(app, walk, "redispatch")
    assert f"单位 青山镇综合行政执法队 对案件 {walk.case_no} 退单" in words
    assert "工地噪声属生态环境部门职责（依据：部门职责清单第3条）" in words
    assert "城管执法局" not in words and "CG" not in words


def test_the_co_return_review_names_the_returning_co_unit(app, services, walk):
    walk.do("sign_off", actor=_actor(services, "qs_cg"), sign_off_decision="accept")
    walk.do("contact_citizen", actor=_actor(services, "qs_cg"), contact_channel="phone",
            contact_summary="已联系")
    walk.do("co_sign_off", actor=_actor(services, "qs_xz"), co_sign_off_decision="return",
            co_return_reason="噪声执法不属镇政府职责", co_return_basis="镇政府职责清单")
    words = _instructions(app, walk, "review_co_return")
    assert "协办单位 青山镇人民政府 申请退单" in words
    assert "理由：噪声执法不属镇政府职责（依据：镇政府职责清单）" in words
    assert "街道办事处" not in words and "JD" not in words


def test_a_co_units_step_shows_its_own_documents_not_the_leads(app, services, walk):
    """The co-unit's step lists what its own people wrote, never the lead unit's records (the
    case page shows a co-department no documents; its step page agrees)."""
    walk.do("sign_off", actor=_actor(services, "qs_cg"), sign_off_decision="accept")
    walk.do("contact_citizen", actor=_actor(services, "qs_cg"), contact_channel="phone",
            contact_summary="已约刘女士周三到工地现场查看")
    walk.do("co_sign_off", actor=_actor(services, "qs_xz"), co_sign_off_decision="accept")
    co_unit = app.test_client()
    login(co_unit, "qs_xz")
    page = co_unit.get(f"/cases/{walk.case_no}/tasks/{walk.task('co_handle')['task_id']}")
    assert page.status_code == 200
    words = visible_text(page.get_data(as_text=True))
    assert "协办签收 / 退单记录" in words and "青山镇人民政府" in words
    assert "首次联系记录" not in words and "已约刘女士周三到工地现场查看" not in words
    assert words.count("签收 / 退单记录") == words.count("协办签收 / 退单记录")  # not the lead's
    assert "受理登记表" not in words
