"""A completion over HTTP sends the step's own statements and one or two more: the API's token
(the step finds the task's case in its own read of the case), or the browser's login session and
where the form lands afterwards (counted with an SQLAlchemy event listener, request included;
never timed)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tests.bpmn.test_services_general import handle_to_review, local, registered
from tests.factories import Walk
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.workflows.test_step_statements import STEP_STATEMENTS, counted, review_returned
from workflows.access import tokens
from workflows.access.hashing import hasher
from workflows.core.actors import SYSTEM
from workflows.models import User

# around the step: who asks (one joined read, the directory stamp with it) and one lookup
REQUEST_STATEMENTS = 2
# the API: who asks only; the task's case comes with the step's read of the case
API_REQUEST_STATEMENTS = 1
RETURN = {"review_decision": "return", "review_note": "未附检测报告"}


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def at_review(walk: Walk, db_engine) -> list[str]:
    """A case at its review again, after two returns through the service: what the second sent
    (the first one also notes the reviewer as a participant)."""
    registered(walk)
    walk.do("sign_off", sign_off_decision="accept")
    handle_to_review(walk)
    walk.do("review_result", **RETURN)
    handle_to_review(walk)
    service = review_returned(walk, db_engine)
    handle_to_review(walk)
    return service


def test_an_api_completion_sends_the_steps_statements_and_one_more(walk, app, db_engine):
    service = at_review(walk, db_engine)
    task = walk.task("review_result")
    token = tokens.issue_token(walk.services.new_uow(), SYSTEM,
                               username=walk.actor_for(task).username).token
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    # the first use stamps the token (a write of its own, at most every few minutes)
    assert client.get(f"/api/v1/cases/{walk.case_no}", headers=headers).status_code == 200

    with counted(db_engine) as statements:
        response = client.post(f"/api/v1/tasks/{task['task_id']}/complete", json=RETURN,
                               headers=headers)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["next_tasks"], "the return opens the handling again"
    assert len(statements) == len(service) + API_REQUEST_STATEMENTS, "\n".join(statements)
    bound = STEP_STATEMENTS[db_engine.dialect.name] + API_REQUEST_STATEMENTS
    assert len(statements) <= bound, "\n".join(statements)


def test_a_form_completion_sends_the_steps_statements_and_two_more(walk, app, db_engine):
    service = at_review(walk, db_engine)
    task = walk.task("review_result")
    reviewer = walk.actor_for(task)
    with walk.services.new_uow() as uow:
        uow.session.execute(update(User).where(User.username == reviewer.username).values(
            password_hash=hasher(walk.services.settings).hash(PASSWORD)))
        uow.commit()
    client = app.test_client()
    assert login(client, reviewer.username).status_code == 302
    page = f"/cases/{walk.case_no}/tasks/{task['task_id']}"
    form = {**RETURN, "csrf_token": csrf_token(client, page)}

    with counted(db_engine) as statements:
        response = client.post(page, data=form)

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].endswith(f"/cases/{walk.case_no}")
    assert len(statements) == len(service) + REQUEST_STATEMENTS, "\n".join(statements)
