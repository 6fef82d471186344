"""Web fixtures: the app on the per-test services, one user per role, sign-in, a deployed process."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.second_factor_support import enrol_if_required, fresh_code
from web import create_app
from workflows.access.policy import actor_for_user
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM, Actor
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Department, User
from workflows.people import admin
from workflows.people.departments import seed_reference_data
from workflows.processes.deploy import deploy_bundle

HERE = Path(__file__).resolve().parent
PASSWORD = "test-password-1"
# role -> department code of its test user (None: no department)
ROLE_DEPARTMENTS = {
    "intake_clerk": "T_CENTRE", "triage_officer": "T_CENTRE", "mediator": "T_MEDIATION",
    "dept_handler": "ZJ", "supervisor": "T_CENTRE", "leader": "T_LEADERS",
    "process_owner": None, "auditor": None, "admin": None,
}
# units of the test users, so the tests do not depend on the demo's department codes
TEST_DEPARTMENTS = (("T_CENTRE", "测试区综治中心", "district"),
                    ("T_MEDIATION", "测试街道人民调解委员会", "street"),
                    ("T_LEADERS", "测试区领导", "district"))
ROLES = tuple(ROLE_DEPARTMENTS)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def reference(services):
    """Roles and departments."""
    seed_reference(services)


def seed_reference(services) -> None:
    """Roles, the reference departments and the test users' units."""
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        for code, name, tier in TEST_DEPARTMENTS:
            uow.session.add(Department(code=code, name=name, tier=tier, responsibilities=[]))
        uow.commit()


@dataclass
class Users:
    """Test users by role (username = role slug) and their actors."""

    services: object

    def actor(self, username: str) -> Actor:
        with self.services.new_uow() as uow:
            user = uow.session.scalars(select(User).where(User.username == username)).one()
            return actor_for_user(user)

    def add(self, username: str, role: str, department: str | None) -> str:
        """A user with one role; a privileged one has its second factor (known secret)."""
        admin.create_user(self.services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], department_code=department, display_name=f"{role}用户")
        enrol_if_required(self.services, username, [role])
        return username


@pytest.fixture
def users(services, reference) -> Users:
    """One user per role, named after the role."""
    found = Users(services)
    for role, dept in ROLE_DEPARTMENTS.items():
        found.add(role, role, dept)
    return found


@pytest.fixture
def app(services, settings):
    app = create_app(settings, services=services)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/auth/login") -> str:
    """A CSRF token from a rendered form of this client's session."""
    match = CSRF.search(client.get(path, follow_redirects=True).get_data(as_text=True))
    assert match, f"no csrf token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    """Sign in; an account with a second factor gives its current code too."""
    token = csrf_token(client)
    response = client.post("/auth/login", data={"username": username, "password": password,
                                                "csrf_token": token})
    if response.status_code == 302 and response.headers["Location"].startswith("/auth/factor"):
        services = client.application.extensions["jiefen_services"]
        response = client.post("/auth/factor", data={
            "code": fresh_code(services, username),
            "csrf_token": csrf_token(client, response.headers["Location"])})
    return response


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST with the CSRF token of the client's session."""
    token = csrf_token(client, "/inbox")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


@pytest.fixture
def as_user(app):
    """A fresh test client signed in as ``username``."""
    def sign_in(username: str):
        client = app.test_client()
        assert login(client, username).status_code == 302
        return client
    return sign_in


@pytest.fixture
def as_role(client, users):
    """Sign the test client in as the user of a role: ``as_role('mediator')``."""

    def sign_in(role: str):
        client.get("/auth/login")
        response = login(client, role)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@pytest.fixture
def process(services, reference):
    """The small test process (triage -> handle -> rate) deployed as general_dispute."""
    return deploy_test_process(services)


def deploy_test_process(services):
    files = {"general_dispute.bpmn": (HERE / "fixtures" / "general_dispute.bpmn").read_bytes()}
    return deploy_bundle(services.new_uow(), SYSTEM, files)


def new_case(services, users: Users, *, phone: str = "13912345678", category: str = "property",
             description: str = "锦绣家园3栋两部电梯已停运两周。") -> str:
    """Register a case through the intake service as the intake clerk; returns its code."""
    request = IntakeRequest(
        channel="hotline_12345", category=category, description=description,
        summary="电梯停运、物业费纠纷", people_count=62,
        parties=[PartyInput(name="周海燕", phone=phone, id_number="310101196306060025",
                            address="示范区西城街道锦绣家园3栋", role="applicant"),
                 PartyInput(name="恒安物业服务有限公司", role="respondent")])
    return submit_intake(services.new_uow(), users.actor("intake_clerk"), request).case_no


@pytest.fixture
def case_no(services, users, process) -> str:
    return new_case(services, users)
