"""确认重复件 in the browser's form: the original case is chosen among the similar cases the
duplicate check found, not typed (shipped process library)."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from tests.bpmn.test_services_general import counter_complaint, local, registered
from tests.factories import Walk, deploy_library
from tests.web.conftest import Users, login, post


@pytest.fixture
def similar(services, clock, reference) -> tuple[Walk, str]:
    """A second complaint similar to an open case, waiting at 确认重复件; (walk, the first)."""
    deploy_library(services)
    clock.set(local(2025, 3, 3, 9, 0))
    users = Users(services)
    users.add("clerk_zz", "intake_clerk", "ZZ")
    walk = Walk(services, clock)
    walk.users[("intake_clerk", "ZZ")] = users.actor("clerk_zz")
    registered(walk)
    return walk, counter_complaint(walk)


def test_the_clerk_picks_the_original_case_among_the_candidates(app, similar):
    walk, first = similar
    client = app.test_client()
    assert login(client, "clerk_zz").status_code == 302
    path = f"/cases/{walk.case_no}/tasks/{walk.task('confirm_duplicate')['task_id']}"

    form = lxml_html.fromstring(client.get(path).get_data(as_text=True))
    choices = [o.get("value") for o in form.xpath("//select[@name='master_case_no']/option")]

    assert not form.xpath("//input[@name='master_case_no']")
    assert [c for c in choices if c] == [first]
    done = post(client, path, {"duplicate_decision": "duplicate", "master_case_no": first})
    assert done.status_code == 302 and "confirm_duplicate" not in walk.ids()
