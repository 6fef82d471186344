"""Every 403, on every page and API route and for every role, writes exactly one
``access_denied`` event; no other answer writes one (policy.deny marks a denial audited)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.web.conftest import ROLES, login, post
from tests.web.test_access_matrix import target  # noqa: F401 (fixture)
from workflows.access import tokens
from workflows.core.actors import SYSTEM

SKIP = ("static", "auth.", "i18n.", "health.")
ARG = re.compile(r"<(?:[^:<>]+:)?(\w+)>")
DEFAULTS = {"process_id": "general_dispute", "name": "general_dispute.bpmn", "fmt": "csv",
            "seq": "1"}


def _denials(services) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "access_denied"))


def _routes(app, *, api: bool):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint.startswith(SKIP) or rule.endpoint.startswith("api_v1.") != api:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _path(rule, values: dict) -> str:
    path = rule.rule.replace("<any(csv, xlsx):fmt>", "csv")
    return ARG.sub(lambda m: str(values.get(m.group(1), DEFAULTS.get(m.group(1), "1"))), path)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_denial_is_audited_exactly_once(app, client, services, target, role):  # noqa: F811
    login(client, role)
    refused = 0
    for rule, method in _routes(app, api=False):
        before = _denials(services)
        path = _path(rule, target)
        response = post(client, path, {}) if method == "POST" else client.get(path)
        written = _denials(services) - before
        if response.status_code == 403:
            refused += 1
            assert written == 1, (rule.endpoint, method, written)
        else:
            assert written == 0, (rule.endpoint, method, response.status_code, written)
    assert refused > 0 or role in ("triage_officer",), "no route refused this role"


@pytest.mark.parametrize("role", ROLES)
def test_every_api_denial_is_audited_exactly_once(app, client, services, target, role):  # noqa: F811
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username=role,
                                channel="hotline_12345")
    headers = {"Authorization": f"Bearer {issued.token}"}
    for rule, method in _routes(app, api=True):
        before = _denials(services)
        response = client.open(_path(rule, target), method=method, headers=headers, json={})
        written = _denials(services) - before
        assert written == (1 if response.status_code == 403 else 0), \
            (rule.endpoint, method, response.status_code, written)


@pytest.fixture
def probe_app(app, services):
    """Two extra views: a denial raised outside any service, and one passing two audit layers."""
    from web.context import actor
    from workflows.access.policy import Denied, denials_audited

    def bare():
        raise Denied("无权执行此操作", "probe.bare", object_type="page")

    def nested():
        with denials_audited(services, actor(), path="/probe/nested"):
            with denials_audited(services, actor(), object_type="page"):
                raise Denied("无权执行此操作", "probe.nested", object_type="page")

    app.add_url_rule("/probe/bare", "probe_bare", bare)
    app.add_url_rule("/probe/nested", "probe_nested", nested)
    return app


@pytest.mark.parametrize(("path", "rule"), [("/probe/bare", "probe.bare"),
                                            ("/probe/nested", "probe.nested")])
def test_a_denial_is_audited_once_whichever_layers_it_passes(probe_app, users, services, path,
                                                              rule):
    client = probe_app.test_client()
    login(client, "mediator")
    before = _denials(services)
    response = client.get(path)
    assert response.status_code == 403
    assert _denials(services) == before + 1
    with services.session_factory() as session:
        last = session.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")
                               .order_by(AuditEvent.id.desc())).first()
    assert rule in last.payload
