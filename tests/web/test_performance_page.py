"""记录已付款 / 已履行 on the case page: offered to the mediator while the agreement's period runs,
the POST moves the case on (the history says so), a second POST is 409, other roles see no button."""

from __future__ import annotations

from tests.bpmn.test_performance_recorded import wait_for_payment
from tests.factories import Walk
from tests.web.conftest import PASSWORD, login, post
from web import create_app
from workflows.access.policy import actor_for_user
from workflows.core.actors import SYSTEM
from workflows.models import User
from workflows.people import admin


def _mediator(services):
    admin.create_user(services.new_uow(), SYSTEM, username="jdlt_mediator", password=PASSWORD,
                      roles=["mediator"], department_code="JDLT", display_name="刘调解")
    with services.new_uow() as uow:
        return actor_for_user(uow.session.query(User).filter_by(username="jdlt_mediator").one())


def test_the_mediator_records_payment_and_the_case_moves_on(services, clock, settings):
    walk = Walk.ready(services, clock)
    wait_for_payment(walk, _mediator(services))
    client = create_app(settings, services=services).test_client()
    client.get("/auth/login")
    assert login(client, "jdlt_mediator", PASSWORD).status_code == 302
    page = client.get(f"/cases/{walk.case_no}").get_data(as_text=True)
    assert 'data-testid="record-performance"' in page and "记录已付款 / 已履行" in page
    done = post(client, f"/cases/{walk.case_no}/performance", {"note": "公司已提前付清"})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已记录协议已履行" in page and 'data-testid="record-performance"' not in page
    history = page[page.index('data-testid="timeline"'):]
    assert "记录协议已履行" in history
    assert [t["bpmn_id"] for t in walk.open()] == ["submit_result"]
    again = post(client, f"/cases/{walk.case_no}/performance", {})
    assert again.status_code == 409


def test_other_roles_get_no_button_and_a_403(services, clock, settings):
    walk = Walk.ready(services, clock)
    wait_for_payment(walk, _mediator(services))
    admin.create_user(services.new_uow(), SYSTEM, username="rs_handler", password=PASSWORD,
                      roles=["dept_handler"], department_code="RS", display_name="人社经办")
    client = create_app(settings, services=services).test_client()
    client.get("/auth/login")
    assert login(client, "rs_handler", PASSWORD).status_code == 302
    assert 'data-testid="record-performance"' not in client.get(
        f"/cases/{walk.case_no}").get_data(as_text=True)
    assert post(client, f"/cases/{walk.case_no}/performance", {}).status_code == 403
    assert walk.open() == []
