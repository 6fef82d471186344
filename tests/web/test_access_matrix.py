"""The access sweep: EVERY route of the URL map (pages and API) x the nine roles x {own case,
foreign case}, against an explicit table.

* The world: street-tier staff (综治中心 of a street: intake clerk, triage officer, supervisor,
  leader), a street mediation committee's mediator and a 住建 (ZJ) handler. Their *own* case is a
  street case registered by their clerk, led by ZJ, mediated by their mediator and raised to
  orange (so it is escalated to the leaders). The *foreign* case is a district case registered
  at the district centre and led by 公安 (GA): nobody but the auditor may see it.
* The world is built and the users signed in once for the module; every test runs in a
  savepoint and every request inside it in another, both rolled back afterwards, so each answer
  is measured on the same state; a denial is a 403 whose body has no personal data of either case and which wrote
  exactly one ``access_denied`` event; an allowed answer writes none.
* A route without an entry in ``EXPECTED`` fails ``test_every_route_has_an_expectation``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.clock import FrozenClock
from engine.models import AuditEvent, InstanceRow
from tests.second_factor_support import enrol_if_required
from tests.web.conftest import ROLES, deploy_test_process, login, post, seed_reference
from tests.web.test_task_pages import _task_id
from web import create_app
from web.access import is_public
from workflows.access import tokens
from workflows.access.policy import actor_for_user
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.casework.tasks import claim_task
from workflows.core.actors import SYSTEM
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import (
    CaseDocument,
    CaseParty,
    Department,
    IntakeSuggestion,
    Place,
    User,
    WorkOrder,
)
from workflows.models.scheduling import SupervisionNotice
from workflows.runtime.bootstrap import Services, bootstrap

# -- the world ------------------------------------------------------------------------------------
SWEEP_DEPARTMENTS = {"intake_clerk": "JD", "triage_officer": "JD", "supervisor": "JD",
                     "leader": "JD", "mediator": "JDTJ", "dept_handler": "ZJ",
                     "process_owner": None, "auditor": None, "admin": None}
OWN = {"name": "周海燕", "phone": "13912345678", "id_number": "310101196306060025",
       "address": "示范区西城街道锦绣家园3栋", "description": "锦绣家园3栋两部电梯已停运两周。"}
FOREIGN = {"name": "刘淑芬", "phone": "13787654321", "id_number": "110101196203150020",
           "address": "示范区东城街道和平里5号", "description": "和平里5号楼下商铺夜间噪声扰民。"}
PERSONAL = tuple(v for d in (OWN, FOREIGN) for v in d.values()) + (
    "周*", "139****5678", "刘*", "137****4321", "3101**********0025", "1101**********0020")


def _user(services, username: str, role: str, dept: str | None) -> None:
    from workflows.people import admin

    admin.create_user(services.new_uow(), SYSTEM, username=username, password="test-password-1",
                      roles=[role], department_code=dept, display_name=f"{role}用户")
    enrol_if_required(services, username, [role])


def _actor(services, username: str):
    with services.session_factory() as session:
        return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def _register(services, clerk, who: dict, category: str) -> str:
    request = IntakeRequest(
        channel="counter", category=category, description=who["description"], summary="测试事项",
        parties=[PartyInput(name=who["name"], phone=who["phone"], id_number=who["id_number"],
                            address=who["address"], role="applicant")])
    return submit_intake(services.new_uow(), clerk, request).case_no


def _shape(services, case_no: str, *, tier: str, lead: str, mediator: str | None) -> dict:
    """Place the case (tier, risk, lead order, mediator, a 督办单) and name its objects."""
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        dept = uow.session.scalar(select(Department.id).where(Department.code == lead))
        case.tier, case.risk_level, case.lead_department_id = tier, "orange", dept
        if mediator:
            case.mediator_id = uow.session.scalar(select(User.id).where(User.username == mediator))
        order = WorkOrder(case_id=case.id, department_id=dept, round=1, role="lead",
                          status="dispatched", dispatched_at=uow.clock.now())
        uow.session.add(order)
        uow.session.flush()
        notice = SupervisionNotice(case_id=case.id, work_order_id=order.id, department_id=dept,
                                   level=1, kind="supervision", reason="测试督办", source="test",
                                   issued_at=uow.clock.now(), issued_by="system",
                                   dedupe_key=f"sweep:{case.id}")
        uow.session.add(notice)
        uow.session.flush()
        party = uow.session.scalar(select(CaseParty.party_id).where(CaseParty.case_id == case.id))
        suggestion = uow.session.scalar(select(IntakeSuggestion.id).where(
            IntakeSuggestion.case_id == case.id))
        document = uow.session.scalar(select(CaseDocument.id).where(
            CaseDocument.case_id == case.id).order_by(CaseDocument.id))
        ids = {"case_no": case_no, "party_id": party, "notice_id": notice.id,
               "instance_id": case.workflow_instance_id, "suggestion_id": suggestion,
               "document_id": document}
        uow.commit()
    return ids


def _world(services) -> dict:
    """Users sw_<role>, the own and the foreign case, API tokens, a stored report."""
    for role, dept in SWEEP_DEPARTMENTS.items():
        _user(services, f"sw_{role}", role, dept)
    _user(services, "sw_far_clerk", "intake_clerk", "ZZ")
    _user(services, "sw_far_triage", "triage_officer", "ZZ")
    own = _register(services, _actor(services, "sw_intake_clerk"), OWN, "property")
    foreign = _register(services, _actor(services, "sw_far_clerk"), FOREIGN, "noise")
    cases = {"own": _shape(services, own, tier="street", lead="ZJ", mediator="sw_mediator"),
             "foreign": _shape(services, foreign, tier="district", lead="GA", mediator=None)}
    for key, claimer in (("own", "sw_triage_officer"), ("foreign", "sw_far_triage")):
        task = _task_id(services, cases[key]["case_no"], "triage")
        claim_task(services.new_uow(), _actor(services, claimer),
                   case_no=cases[key]["case_no"], task_id=task)
        cases[key]["task_id"] = task
    from workflows.reports import periodic as reports

    report = reports.generate(services, "weekly")
    with services.session_factory() as session:
        version = session.scalar(select(InstanceRow.process_version_id).where(
            InstanceRow.id == cases["own"]["instance_id"]))
    with services.new_uow() as uow:
        place = Place(code="SW-B1", name="锦绣家园3栋", level="building")
        uow.session.add(place)
        uow.session.flush()
        place.path = f"/{place.id}/"
        uow.commit()
    shared = {"report_id": report.id, "version_id": version, "process_id": "general_dispute",
              "place_code": "SW-B1",
              "number": 1, "name": "general_dispute.bpmn", "draft_id": 999999, "seq": 1,
              "code": "en", "filename": "css/jiefen.css", "username": "sw_mediator",
              "unit_code": "ZJ", "room_id": 999999, "session_id": 999999,
              "warning_id": 999999, "rule_code": "hotspot",
              "target_id": 999999, "attachment_id": 999999,
              "expert_id": 999999, "invitation_id": 999999, "example_id": 999999,
              "call_id": 999999, "token_id": 999999}
    headers = {role: {"Authorization": "Bearer " + tokens.issue_token(
        services.new_uow(), SYSTEM, username=f"sw_{role}", channel="hotline_12345").token}
        for role in ROLES}
    return {"cases": cases, "shared": shared, "headers": headers}


@dataclass
class Sweep:
    """The sweep's world, built once for the module; ``client(role)`` is a fresh test client
    carrying that role's signed-in session cookie."""

    services: Services
    app: Flask
    world: dict
    cookies: dict[str, str]

    def client(self, role: str | None = None) -> FlaskClient:
        client = self.app.test_client()
        if role is not None:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookies[role])
        return client


@pytest.fixture(scope="module")
def built(db_engine, settings, keyring, tmp_path_factory):
    """The world in a transaction of its own, rolled back after the module: ~75 tests x 9 roles
    would otherwise each build it and sign in again (seconds per test)."""
    clock = FrozenClock(datetime(2025, 3, 3, 1, 0, tzinfo=UTC))  # as the ``clock`` fixture
    own = replace(settings, instance_path=tmp_path_factory.mktemp("sweep"))
    with db_engine.connect() as connection:
        outer = connection.begin()
        services = bootstrap(own, connection=connection, clock=clock, keyring=keyring)
        seed_reference(services)
        deploy_test_process(services)
        world = _world(services)
        app = create_app(settings, services=services)
        cookies = {}
        for role in ROLES:
            client = app.test_client()
            assert login(client, f"sw_{role}").status_code == 302
            cookies[role] = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
        yield Sweep(services, app, world, cookies)
        outer.rollback()


@pytest.fixture
def sweep(built):
    """The module's world for one test: whatever the test writes is rolled back after it (each
    request is measured in a savepoint of its own inside this one)."""
    savepoint = built.services.db.begin_nested()
    yield built
    savepoint.rollback()


# -- requests -------------------------------------------------------------------------------------
ARG = re.compile(r"<(?:([^:<>()]+)(?:\([^)]*\))?:)?(\w+)>")
FORMATS = {"audit.export": "json", "reports.download": "csv"}
QUERY = {"audit.diagram": "?version={version_id}",   # routes that need a query string
         "api_v1.kpis": "?from=2025-03-01&to=2025-03-31"}
FORMS = {  # POST bodies: valid enough to reach the policy, never needing a second step
    "cases.reveal": {"purpose": "contact"}, "cases.reveal_narrative": {"purpose": "contact"},
    "cases.intake": {"action": "preview", "channel": "counter"},
    "tasks.submit": {"department": "ZJ"}, "satisfaction.submit": {"rating": "satisfied"},
    "audit.export": {"purpose": "internal_audit"}, "reports.generate": {"kind": "weekly"},
    "supervision.reply": {"note": "已整改"}, "case_deadlines.deadline_request": {"kind": "suspend"},
    "assistant.review": {"outcome": "confirmed"},
    "calls.done": {"outcome": "reached"},
}
JSON = {"api_v1.complete_task": {"department": "ZJ"}, "api_v1.create_case": {}}


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _path(rule, endpoint: str, values: dict) -> str:
    def value(match):
        name = match.group(2)
        if name == "fmt":
            return FORMATS[endpoint]
        return str(values[name])

    return ARG.sub(value, rule.rule)


def _has_case(rule) -> bool:
    return bool({"case_no", "task_id", "party_id", "notice_id", "instance_id", "suggestion_id",
                 "document_id"} & rule.arguments)


def _denials(services) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "access_denied"))


def _send(client, world, role, rule, method, values):
    endpoint = rule.endpoint
    path = _path(rule, endpoint, values) + QUERY.get(endpoint, "").format(**values)
    if endpoint.startswith("api_v1."):
        headers = {} if endpoint == "api_v1.openapi" else world["headers"][role]
        return client.open(path, method=method, headers=headers, json=JSON.get(endpoint, {}))
    if method == "POST":
        return post(client, path, FORMS.get(endpoint, {}))
    return client.get(path)


def measure(sweep: Sweep, rule, method) -> dict[str, tuple]:
    """{role: (own status, foreign status)}, each request in a rolled-back savepoint; checks every
    denial (403, no personal data, one access_denied) and that nothing else writes one."""
    services, world = sweep.services, sweep.world
    out = {}
    for role in ROLES:
        client = sweep.client(role)
        found = []
        kinds = ("own", "foreign") if _has_case(rule) else ("own",)
        for kind in kinds:
            values = {**world["shared"], **world["cases"][kind]}
            savepoint = services.db.begin_nested()
            try:
                before = _denials(services)
                response = _send(client, world, role, rule, method, values)
                written = _denials(services) - before
            finally:
                savepoint.rollback()
            body = response.get_data().decode("utf-8", "replace")   # XLSX downloads too
            where = (rule.endpoint, method, role, kind, response.status_code)
            if response.status_code == 403:
                assert written == 1, where
                assert not [p for p in PERSONAL if p in body], where
            else:
                assert written == 0, where
            # lists and pages: no code of a case the role may not see (the API document's
            # example code is no case)
            if not _has_case(rule) and rule.endpoint != "api_v1.openapi":
                hidden = {world["cases"]["foreign"]["case_no"]} if role != "auditor" else set()
                if role in ("process_owner", "admin"):
                    hidden.add(world["cases"]["own"]["case_no"])
                assert not [code for code in hidden if code in body], where
            found.append(response.status_code)
        out[role] = (found[0], found[-1])
    return out



# -- the table ------------------------------------------------------------------------------------
STAFF = {"intake_clerk", "triage_officer", "mediator", "dept_handler", "supervisor", "leader"}
SEE_OWN = STAFF | {"auditor"}        # the own case: its clerk, tier, mediator, lead dept, leaders
AUDITOR = {"auditor"}                # the foreign case: the auditor alone (read-only, masked)
REGISTER = {"intake_clerk", "triage_officer"}
RATE = {"intake_clerk", "triage_officer", "supervisor"}
AUDIT = {"supervisor", "auditor"}
OWNER = {"process_owner"}
CALLERS = {"intake_clerk", "triage_officer", "mediator", "dept_handler"}


def case(ok: int, own: set, foreign: set = frozenset()) -> dict[str, tuple[int, int]]:
    """A case route: ``ok`` on the own case for ``own``, on the foreign one for ``foreign``."""
    return {r: (ok if r in own else 403, ok if r in foreign else 403) for r in ROLES}


def page(ok: int, roles: set) -> dict[str, tuple[int, int]]:
    """A route without a case object: ``ok`` for ``roles``, 403 for the others."""
    return {r: (ok, ok) if r in roles else (403, 403) for r in ROLES}


def only(**statuses: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """Named roles with their (own, foreign) status; 403 for everybody else."""
    return {r: statuses.get(r, (403, 403)) for r in ROLES}


EVERYONE = set(ROLES)
PRIVILEGED = {"admin", "process_owner", "auditor"}
EXPECTED: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    # the JSON API (Bearer token of each role's user)
    ("api_v1.case_tasks", "GET"): case(200, SEE_OWN, AUDITOR),
    ("api_v1.complete_task", "POST"): only(triage_officer=(422, 403)),  # claimer; form invalid
    ("api_v1.create_case", "POST"): page(422, REGISTER),                # empty body
    ("api_v1.post_alarm", "POST"): page(201, set()),                   # no iot token: all 403
    ("api_v1.deploy_processes", "POST"): page(422, OWNER),
    ("api_v1.get_case", "GET"): case(200, SEE_OWN, AUDITOR),
    ("api_v1.history", "GET"): case(200, SEE_OWN, AUDITOR),
    ("api_v1.list_cases", "GET"): page(200, SEE_OWN),              # each sees their scope
    ("api_v1.list_processes", "GET"): page(200, OWNER),
    ("api_v1.openapi", "GET"): page(200, EVERYONE),
    # the intake assistant: suggestions for those who register (empty description: 422); red
    # flags for triage and supervisors (the sweep's cases have none pending: 409); accuracy
    ("assistant.suggest", "POST"): page(422, REGISTER),
    ("assistant.reviews", "GET"): page(200, {"triage_officer", "supervisor"}),
    ("assistant.review", "POST"): only(triage_officer=(409, 403), supervisor=(409, 403)),
    ("assistant.accuracy", "GET"): page(200, {"supervisor", "leader"}),
    ("api_v1.events", "GET"): page(200, SEE_OWN),     # events of cases in the caller's scope
    ("api_v1.kpis", "GET"): page(200, {"supervisor", "leader"}),
    # the cockpit: aggregates for leaders and supervisors; KPI targets for admins
    ("cockpit.index", "GET"): page(200, {"supervisor", "leader"}),
    ("cockpit.ranking_download", "GET"): page(200, {"supervisor", "leader"}),
    ("kpi_targets.index", "GET"): page(200, {"admin"}),
    ("kpi_targets.download", "GET"): page(200, {"admin"}),
    ("kpi_targets.save", "POST"): page(422, {"admin"}),
    ("kpi_targets.import_file", "POST"): page(422, {"admin"}),
    ("kpi_targets.delete", "POST"): page(404, {"admin"}),
    # signed with the channel secret, not a token: unsigned is 401 for anyone
    ("api_v1.hotline_orders", "POST"): page(401, EVERYONE),
    # the auditor's workbench (supervisors: their tier, values hidden; export: auditors)
    ("audit.access", "GET"): page(200, AUDITOR),
    ("audit.case_page", "GET"): case(200, AUDIT, AUDITOR),
    ("audit.chains", "GET"): page(200, AUDITOR),
    ("audit.diagram", "GET"): case(200, AUDIT, AUDITOR),
    ("audit.export", "POST"): case(200, AUDITOR, AUDITOR),
    ("audit.index", "GET"): page(200, AUDIT),
    ("audit.replay_page", "GET"): case(200, AUDIT, AUDITOR),
    ("audit.step_state", "GET"): case(200, AUDIT, AUDITOR),
    ("audit.verify", "POST"): case(200, AUDIT, AUDITOR),
    # signing in and out, own password (empty forms: 401 / 422)
    ("auth.login", "GET"): page(200, EVERYONE),
    ("auth.login", "POST"): page(401, EVERYONE),
    ("auth.logout", "POST"): page(302, EVERYONE),
    ("auth.password", "GET"): page(200, EVERYONE),
    ("auth.password", "POST"): page(422, EVERYONE),
    # mediation rooms (administrators edit; the others read utilisation) and a case's sessions
    # (its mediator moves or cancels them; no such session: 422)
    ("mediation.rooms", "GET"): page(200, {"admin", "supervisor", "leader", "mediator"}),
    ("mediation.room_new", "GET"): page(200, {"admin"}),
    ("mediation.room_new", "POST"): page(422, {"admin"}),
    ("mediation.room_edit", "GET"): page(404, {"admin"}),
    ("mediation.room_edit", "POST"): page(404, {"admin"}),
    ("mediation.reschedule", "POST"): only(mediator=(422, 403)),
    ("mediation.cancel", "POST"): only(mediator=(422, 403)),
    ("mediation.co_mediator", "POST"): only(mediator=(422, 403)),
    ("mediation.upcoming", "GET"): page(200, {"mediator"}),
    # the expert pool (administrators edit; no such expert: 404), inviting (the case's mediator;
    # no such session: 422), the experts' own pages (the role expert only: 403 for these nine)
    ("experts.pool_page", "GET"): page(200, {"admin", "mediator", "supervisor", "leader"}),
    ("experts.expert_new", "GET"): page(200, {"admin"}),
    ("experts.expert_new", "POST"): page(422, {"admin"}),
    ("experts.expert_edit", "GET"): page(404, {"admin"}),
    ("experts.expert_edit", "POST"): page(404, {"admin"}),
    ("experts.invite", "POST"): only(mediator=(422, 403)),
    ("experts.home", "GET"): page(200, set()),
    ("experts.invitation", "GET"): page(200, set()),
    ("experts.opinion", "POST"): page(302, set()),
    # the own account and its second factor (signed in fully: the factor step sends onward;
    # the privileged have enrolled already, the others may enrol: an empty code is 422)
    ("auth.account", "GET"): page(200, EVERYONE),
    ("auth.text_size", "POST"): page(422, EVERYONE),
    ("auth.enrol", "GET"): {r: (302, 302) if r in PRIVILEGED else (200, 200) for r in ROLES},
    ("auth.enrol", "POST"): {r: (302, 302) if r in PRIVILEGED else (422, 422) for r in ROLES},
    ("auth.factor", "GET"): page(302, EVERYONE),
    ("auth.factor", "POST"): page(302, EVERYONE),
    # configuration (admins see no case content); empty forms: 422
    ("api_tokens.index", "GET"): page(200, {"admin"}),
    ("api_tokens.new", "GET"): page(200, {"admin"}),
    ("api_tokens.create", "POST"): page(422, {"admin"}),
    ("api_tokens.revoke", "POST"): page(404, {"admin"}),
    ("directory.create_unit", "POST"): page(422, {"admin"}),
    ("directory.create_user", "POST"): page(422, {"admin"}),
    ("directory.disable_user", "POST"): page(302, {"admin"}),
    ("directory.enable_user", "POST"): page(302, {"admin"}),
    ("directory.new_unit", "GET"): page(200, {"admin"}),
    ("directory.new_user", "GET"): page(200, {"admin"}),
    ("directory.places", "GET"): page(200, {"admin"}),
    ("directory.place_options", "GET"): page(200, {"admin"}),
    ("directory.reset_password", "POST"): page(200, {"admin"}),
    ("directory.reset_second_factor", "POST"): page(302, {"admin"}),
    ("directory.unit", "GET"): page(200, {"admin"}),
    ("directory.units", "GET"): page(200, {"admin"}),
    ("directory.unlock_user", "POST"): page(302, {"admin"}),
    ("directory.update_unit", "POST"): page(422, {"admin"}),
    ("directory.update_user", "POST"): page(422, {"admin"}),
    ("directory.user", "GET"): page(200, {"admin"}),
    ("directory.users", "GET"): page(200, {"admin"}),
    ("directory_import.confirm", "POST"): page(422, {"admin"}),
    ("directory_import.index", "GET"): page(200, {"admin"}),
    ("directory_import.preview", "POST"): page(422, {"admin"}),
    ("calendar_admin.add", "POST"): page(422, {"admin"}),
    ("calendar_admin.index", "GET"): page(200, {"admin"}),
    ("calendar_admin.withdraw", "POST"): page(422, {"admin"}),
    # channels: the quarantine (intake roles), the request-type mapping (admins; empty form 422)
    ("channels.mappings", "GET"): page(200, {"admin"}),
    ("channels.mappings", "POST"): page(422, {"admin"}),
    ("channels.quarantine_list", "GET"): page(200, REGISTER),
    # interface catalogue and health: supervisors and admins read; an empty post edits the
    # catalogue, which is the admins' (422: empty form) and refused to supervisors
    ("channels.interfaces", "GET"): page(200, {"supervisor", "admin"}),
    ("channels.interfaces", "POST"): page(422, {"admin"}),
    # cases
    ("cases.case_list", "GET"): page(200, SEE_OWN),
    ("case_deadlines.deadline_decide", "POST"): only(supervisor=(404, 403), leader=(404, 403)),
    ("case_deadlines.deadline_notice", "POST"): only(supervisor=(422, 403)),  # empty form
    ("case_deadlines.deadline_request", "POST"): only(mediator=(404, 403), dept_handler=(404, 403)),
    ("case_deadlines.deadline_resume", "POST"): only(mediator=(404, 403), dept_handler=(404, 403),
                                            supervisor=(404, 403), leader=(404, 403)),
    ("cases.detail", "GET"): case(200, SEE_OWN, AUDITOR),
    ("cases.diagram_state", "GET"): case(200, SEE_OWN, AUDITOR),
    ("cases.diagram_xml", "GET"): case(200, SEE_OWN, AUDITOR),
    ("cases.inbox", "GET"): {r: (302, 302) if r in PRIVILEGED else (200, 200) for r in ROLES},
    # (each sees only their own tasks; those without case work land on their workbench)
    ("cases.inbox_page", "GET"): page(302, EVERYONE),
    # the call list (待回电): the roles that call citizens; no call 999999 in anybody's list
    ("calls.index", "GET"): page(200, CALLERS),
    ("calls.reveal", "POST"): page(404, CALLERS),
    ("calls.done", "POST"): page(404, CALLERS),
    ("cases.intake", "GET"): page(200, REGISTER),
    ("cases.intake", "POST"): page(422, REGISTER),
    ("cases.place_options", "GET"): page(200, REGISTER),   # the place picker's suggestions
    ("cases.receipt", "GET"): case(200, SEE_OWN, AUDITOR),
    ("cases.document_pdf", "GET"): case(200, SEE_OWN, AUDITOR),      # the masked copy
    ("cases.document_pdf", "POST"): case(302, STAFF),     # no purpose given: back to the page
    ("cases.notice_pdf", "GET"): case(200, SEE_OWN, AUDITOR),
    ("cases.reveal", "POST"): case(200, STAFF),            # purpose-bound; never the auditor
    ("cases.reveal_narrative", "POST"): case(200, STAFF),
    ("dispatch.joint", "GET"): case(200, SEE_OWN, AUDITOR),
    ("dispatch.orders", "GET"): page(200, EVERYONE),      # the own department's orders only
    # a place: supervisors and leaders of a unit above it (here: units without a place), admins
    ("places.detail", "GET"): page(200, {"supervisor", "leader", "admin"}),
    ("alarms.quarantine", "GET"): page(200, {"intake_clerk", "admin"}),
    # the grid worker's phone pages: grid workers only (tests/web/test_grid.py covers them)
    ("grid.home", "GET"): page(200, set()),
    ("grid.report_form", "GET"): page(200, set()),
    ("grid.report_submit", "POST"): page(302, set()),
    ("grid.reports", "GET"): page(200, set()),
    ("grid.report_detail", "GET"): page(200, set()),
    ("grid.record_visit", "POST"): page(302, set()),
    ("attachments.download", "GET"): page(404, set(ROLES)),           # no such attachment
    # warnings: read like places; supervisors decide (an unknown warning: 404); admins set rules
    ("warnings.index", "GET"): page(200, {"supervisor", "leader", "admin"}),
    ("warnings.decide_one", "POST"): only(supervisor=(404, 404)),
    ("warnings.rule_set", "GET"): page(200, {"admin"}),
    ("warnings.save_rule", "POST"): page(422, {"admin"}),
    # public
    ("health.healthz", "GET"): page(200, EVERYONE),
    ("i18n.set_locale", "POST"): page(303, EVERYONE),
    ("static", "GET"): page(200, EVERYONE),
    # process definitions (process owners; no case content)
    ("process_editor.deploy", "POST"): page(422, OWNER),
    ("process_editor.dry_run", "POST"): page(422, OWNER),
    ("process_editor.editor", "GET"): page(200, OWNER),
    ("process_editor.files_json", "GET"): page(200, OWNER),
    ("process_editor.import_files", "POST"): page(422, OWNER),
    ("process_editor.save_draft", "POST"): page(422, OWNER),
    ("process_editor.sample_data", "POST"): page(422, OWNER),
    ("process_editor.delete_example", "POST"): page(404, OWNER),
    ("process_editor.check_examples", "POST"): page(422, OWNER),
    ("process_editor.save_example", "POST"): page(422, OWNER),
    ("process_editor.examples_json", "GET"): page(200, OWNER),
    ("process_editor.validate", "POST"): page(422, OWNER),
    ("processes.approve", "POST"): page(422, OWNER),
    ("case_types.table", "GET"): page(200, OWNER),
    ("case_types.table", "POST"): page(422, OWNER),
    ("processes.catalogue", "GET"): page(200, OWNER),
    ("processes.delete_draft", "POST"): page(404, OWNER),
    ("processes.delete_stale_drafts", "POST"): page(302, OWNER),
    ("processes.diff", "GET"): page(422, OWNER),
    ("processes.migrate_preview", "GET"): page(422, OWNER),
    ("processes.migrate_run", "POST"): page(422, OWNER),
    ("processes.retire", "POST"): page(422, OWNER),
    ("processes.upload", "POST"): page(422, OWNER),
    ("processes.version_file", "GET"): page(200, OWNER),
    # reports: rows scoped to the reader; generating is for district-tier roles (the sweep's
    # supervisor and leader sit in a street, so nobody here may: tests/web/test_report_scope.py)
    ("reports.detail", "GET"): page(200, {"supervisor", "leader", "auditor"}),
    ("reports.printable", "GET"): page(200, {"supervisor", "leader", "auditor"}),
    ("reports.download", "GET"): page(200, {"supervisor", "leader", "auditor"}),
    ("reports.generate", "POST"): page(403, set()),
    ("reports.index", "GET"): page(200, {"supervisor", "leader", "auditor"}),
    # the citizen's rating (the case is not awaiting feedback: 409)
    ("satisfaction.record", "GET"): case(200, RATE),
    ("satisfaction.submit", "POST"): case(409, RATE),
    # a mediator in scope: the sweep's case waits for no payment (409); anyone else 403
    ("satisfaction.performance", "POST"): only(mediator=(409, 403)),
    # supervision
    ("supervision.index", "GET"): page(200, {"supervisor", "leader"}),
    ("supervision.notices", "GET"): page(200, {"dept_handler"}),
    ("supervision.reply", "POST"): only(dept_handler=(302, 403)),      # the lead's 督办单
    ("supervision.retry", "POST"): only(supervisor=(404, 403), leader=(404, 403)),  # no incident
    # tasks: the triage task is claimed by the triage officer (supervisors may release it)
    ("tasks.claim", "POST"): only(triage_officer=(302, 403)),
    ("tasks.release", "POST"): only(triage_officer=(302, 403), supervisor=(302, 403)),
    ("tasks.show", "GET"): only(triage_officer=(200, 403)),
    ("tasks.submit", "POST"): only(triage_officer=(422, 403)),         # form invalid
}


def test_every_route_has_an_expectation(app):
    """A new route (page or API) without an entry here fails the build."""
    found = {(rule.endpoint, method) for rule, method in _routes(app)}
    assert found - set(EXPECTED) == set(), "add the new routes to EXPECTED"
    assert set(EXPECTED) - found == set(), "remove the routes that are gone"


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[0]}-{r[1]}")
def test_route_answers_every_role_as_the_table_says(sweep, route):
    """Each role on the own and the foreign case (or the page), every denial
    a 403 without personal data and with exactly one access_denied event."""
    rule = next(r for r, m in _routes(sweep.app) if (r.endpoint, m) == route)
    assert measure(sweep, rule, route[1]) == EXPECTED[route]


def test_every_route_outside_the_public_list_needs_a_sign_in(sweep):
    """Anonymous requests reach only the sign-in page, health, language switch and the API doc;
    the API answers 401, pages send to the sign-in page (or 400: CSRF before the login check)."""
    app, client, world = sweep.app, sweep.client(), sweep.world
    public = set()
    for rule in app.url_map.iter_rules():
        with app.test_request_context():
            if is_public(rule.endpoint) and not rule.endpoint.startswith("api_v1."):
                public.add(rule.endpoint)
    assert public <= {"static", "auth.login", "health.healthz", "i18n.set_locale"}
    values = {**world["shared"], **world["cases"]["own"]}
    for rule, method in _routes(app):
        if rule.endpoint in public or rule.endpoint == "api_v1.openapi":
            continue
        path = _path(rule, rule.endpoint, values)
        response = client.open(path, method=method)
        expected = (401,) if rule.endpoint.startswith("api_v1.") else (302, 400)
        assert response.status_code in expected, (rule.endpoint, method, response.status_code)
        assert not [p for p in PERSONAL if p in response.get_data(as_text=True)]


# -- the sample case's objects (tests/web/test_denials_once.py sweeps with them) -------------------
@pytest.fixture
def target(services, users, case_no):
    """Path arguments of the conftest sample case: its code, its triage task (claimed by the
    triage officer), its applicant."""
    claim_task(services.new_uow(), users.actor("triage_officer"), case_no=case_no,
               task_id=_task_id(services, case_no, "triage"))
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        party = uow.session.scalars(select(CaseParty.party_id).where(
            CaseParty.case_id == case.id, CaseParty.role == "applicant")).first()
    return {"case_no": case_no, "task_id": _task_id(services, case_no, "triage"),
            "party_id": party}
