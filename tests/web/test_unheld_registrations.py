"""A registration that no clerk holds yet — a 12345 work order pushed by the hotline, a grid
worker's report — waits at 登记核对 for the intake clerks whose unit covers the case: they find
it in their inbox, open it and check it (shipped process library)."""

from __future__ import annotations

import re

import pytest

from tests.factories import deploy_library
from tests.web.conftest import Users, login, post
from workflows.cases.parties import PartyInput
from workflows.channels.hotline import HOTLINE_ACTOR
from workflows.intake.register import IntakeRequest, submit_intake


@pytest.fixture
def pushed(services, reference) -> str:
    """A work order the hotline registered itself (no clerk, no unit)."""
    deploy_library(services)
    Users(services).add("district_clerk", "intake_clerk", "T_CENTRE")
    Users(services).add("street_clerk", "intake_clerk", "T_MEDIATION")
    request = IntakeRequest(channel="hotline_12345", channel_ref="12345-20250704-0038",
                            category="property", summary="12345 工单 12345-20250704-0038",
                            description="小区路灯坏了一个月，物业不修。",
                            parties=[PartyInput(name="钱多多", phone="13912349999")])
    return submit_intake(services.new_uow(), HOTLINE_ACTOR, request).case_no


def test_the_district_clerk_finds_checks_and_completes_a_pushed_registration(app, pushed):
    client = app.test_client()
    assert login(client, "district_clerk").status_code == 302

    inbox = client.get("/inbox").get_data(as_text=True)
    task = re.search(rf'href="(/cases/{pushed}/tasks/[^"]+)"', inbox)
    assert task and "登记核对" in inbox
    assert client.get(f"/cases/{pushed}").status_code == 200
    done = post(client, task.group(1), {"category": "property", "urgency": "general",
                                        "people_count": "1", "summary": "小区路灯长期不修"})

    assert done.status_code == 302
    assert client.get(done.headers["Location"]).status_code == 200


def test_a_clerk_whose_unit_does_not_cover_the_case_still_may_not_see_it(app, pushed):
    client = app.test_client()
    assert login(client, "street_clerk").status_code == 302

    assert pushed not in client.get("/inbox").get_data(as_text=True)
    assert client.get(f"/cases/{pushed}").status_code == 403
