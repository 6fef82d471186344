"""The auditor's case history reads values as the case-file report does (one set of rules,
workflows/replay/values.py): a form's 'true'/'false' as 是/否, the mediator by name, the room by
its name, a work order's change in words."""

from __future__ import annotations

import re

from tests.bpmn.test_services_mediation import c01  # noqa: F401 (fixture)
from tests.second_factor_support import enrol_if_required
from tests.web.conftest import PASSWORD, login
from tests.web.test_pages_in_words import visible_text
from tests.workflows.test_history_in_words import named_mediator
from tests.workflows.test_mediation_sessions import ready  # noqa: F401 (fixture)
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin


def test_the_history_page_reads_flags_people_rooms_and_orders_in_words(services, settings,
                                                                       ready):  # noqa: F811
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    mediator = named_mediator(services, ready)
    admin.create_user(services.new_uow(), SYSTEM, username="auditor_values", password=PASSWORD,
                      roles=["auditor"], display_name="审计员")
    enrol_if_required(services, "auditor_values", ["auditor"])
    client = create_app(settings, services=services).test_client()
    assert login(client, "auditor_values").status_code == 302

    page = client.get(f"/audit/cases/{ready.case_no}").get_data(as_text=True)
    rows = [visible_text("<tr" + row) for row in page.split("<tbody")[1].split("<tr")[1:]]
    text = "\n".join(rows)
    # register_mediation's boolean field arrives as the form's 'true'
    assert "双方已签收《当事人权利义务告知书》：— → 是" in text
    assert not re.search(r"→ (true|false)\b", text)
    assert "调解员：— → 张秀兰" in text and f"→ {mediator.id}\n" not in text + "\n"
    assert "调解室（现场调解必选）：— → 调解室A" in text
    orders = [row for row in rows if "工单变更" in row]
    assert orders and all(re.search(r"（(牵头|协办)）：\S+ → \S+", row) for row in orders)
