"""Domain models on SQLite: round trips, unique constraints, optimistic locking; the Alembic history."""

from __future__ import annotations

import os
import shutil
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.clock import FrozenClock, use_clock
from engine.db import Base, make_engine, make_session_factory
from engine.models import InstanceRow, ProcessVersion
from workflows.core.schema import alembic_config, current, migrations_dir, model_metadata
from workflows.models import (
    ApiToken,
    CalendarOverride,
    CallTask,
    Case,
    CaseDocument,
    CaseNote,
    CaseParty,
    CaseStatus,
    Channel,
    Department,
    IdempotencyKey,
    LoginAttempt,
    LoginSession,
    OpenTask,
    Party,
    PartyRole,
    RiskLevel,
    Role,
    RoleCode,
    SlaClock,
    Submission,
    Tier,
    User,
    UserRole,
    WorkOrder,
    WorkOrderStatus,
)

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def models_db(tmp_path_factory) -> Path:
    """The models' tables created once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("models") / "models.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def factory(tmp_path, models_db):
    shutil.copyfile(models_db, tmp_path / "models.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'models.db'}")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def loose_session(tmp_path, models_db):
    """A session without SQLite foreign-key enforcement, to reach unique constraints."""
    shutil.copyfile(models_db, tmp_path / "loose.db")
    engine = create_engine(f"sqlite:///{tmp_path / 'loose.db'}")
    with Session(engine) as session:
        yield session
    engine.dispose()


def _seed(session) -> dict:
    dept = Department(
        code="RS", name="人社局", tier=Tier.DISTRICT, responsibilities=["labour", "wage_arrears"]
    )
    street = Department(code="JD01", name="某街道人民调解委员会", tier=Tier.STREET)
    role = Role(code=RoleCode.MEDIATOR, name_zh="调解员", name_en="Mediator")
    user = User(
        username="wang", display_name="王调解", password_hash="$argon2id$x", department=dept
    )
    user.roles.append(UserRole(role=role, department_id=None))
    session.add_all([dept, street, role, user])
    session.flush()
    party = Party(
        name_enc="v1|aes|k1|n|c",
        phone_bidx="a" * 64,
        masked={"name": "张*", "phone": "138****5678"},
        vulnerable=["elderly"],
    )
    case = Case(
        case_no="JF-2026-000001",
        channel=Channel.COUNTER,
        category="labour",
        people_count=12,
        risk_level=RiskLevel.ORANGE,
        summary="欠薪 12 人",
        lead_department_id=dept.id,
        owner_id=user.id,
    )
    case.party_links.append(CaseParty(party=party, role=PartyRole.APPLICANT))
    case.work_orders.append(
        WorkOrder(department_id=dept.id, role="lead", due_at=T0 + timedelta(hours=2))
    )
    case.work_orders.append(WorkOrder(department_id=street.id, role="co"))
    session.add(case)
    session.flush()
    return {"dept": dept, "street": street, "user": user, "case": case, "party": party}


def test_case_round_trip_keeps_values_relations_and_aware_times(factory):
    with use_clock(FrozenClock(T0)), factory() as session:
        ids = {k: v.id for k, v in _seed(session).items()}
        session.commit()

    with factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == "JF-2026-000001")).one()
        assert case.status == CaseStatus.REGISTERED
        assert case.risk_level == "orange" and case.people_count == 12
        assert case.opened_at == T0 and case.opened_at.tzinfo is not None
        assert case.version_id == 1 and case.second_complaint is False
        assert [p.masked["name"] for p in case.parties] == ["张*"]
        assert case.party_links[0].role == "applicant"
        orders = case.work_orders
        assert [(o.department_id, o.role) for o in orders] == [
            (ids["dept"], "lead"),
            (ids["street"], "co"),
        ]
        assert orders[0].status == WorkOrderStatus.DISPATCHED and orders[0].light == "green"
        assert orders[0].due_at == T0 + timedelta(hours=2) and orders[0].round == 1
        user = session.get(User, ids["user"])
        assert [(r.role.code, r.department_id) for r in user.roles] == [("mediator", None)]
        assert session.get(Department, ids["dept"]).responsibilities == ["labour", "wage_arrears"]
        assert session.get(Party, ids["party"]).vulnerable == ["elderly"]


def test_party_id_exists_before_flush_so_encryption_can_bind_it():
    party = Party(name_enc="x")
    assert party.id is not None and len(party.id) == 36
    assert Party(name_enc="y").id != party.id
    assert Party(id="fixed-id", name_enc="z").id == "fixed-id"


def test_case_work_rows_round_trip(factory):
    with use_clock(FrozenClock(T0)), factory() as session:
        seeded = _seed(session)
        case, user, dept = seeded["case"], seeded["user"], seeded["dept"]
        session.add_all(
            [
                SlaClock(
                    case_id=case.id,
                    kind="response",
                    policy="working_days(2)",
                    started_at=T0,
                    due_at=T0 + timedelta(days=2),
                    next_check_at=T0,
                ),
                CaseNote(case_id=case.id, author_id=user.id, body_enc="v1|aes|k1|n|c"),
                CallTask(
                    case_id=case.id,
                    party_id=seeded["party"].id,
                    department_id=dept.id,
                    reason="revisit",
                    due_at=T0,
                ),
                CaseDocument(case_id=case.id, kind="receipt", title="受理回执", body="# 回执"),
                Submission(
                    case_id=case.id,
                    channel=Channel.HOTLINE_12345,
                    channel_ref="W1",
                    party_id=seeded["party"].id,
                    linked_as="duplicate",
                ),
                CalendarOverride(day=date(2026, 10, 10), kind="workday", reason="调休上班"),
                LoginSession(id_hash="h" * 64, user_id=user.id, expires_at=T0 + timedelta(hours=8)),
                LoginAttempt(username_hash="u" * 64, ip="10.0.0.1", success=False),
            ]
        )
        token = ApiToken(
            channel="hotline_12345",
            name="12345",
            prefix="abcd1234",
            token_hash="th",
            scopes=["cases:create"],
            expires_at=T0 + timedelta(days=90),
        )
        session.add(token)
        session.flush()
        session.add(
            IdempotencyKey(
                api_token_id=token.id,
                key="k-1",
                request_sha256="s" * 64,
                response_status=201,
                response_body='{"case_no":"JF"}',
                case_id=case.id,
                expires_at=T0 + timedelta(days=7),
            )
        )
        session.commit()

    with factory() as session:
        clock = session.scalars(select(SlaClock)).one()
        assert clock.due_at == T0 + timedelta(days=2) and clock.paused_seconds == 0
        assert session.scalars(select(CallTask)).one().status == "open"
        assert session.scalars(select(CaseNote)).one().created_at == T0
        assert session.scalars(select(CaseDocument)).one().title == "受理回执"
        assert session.scalars(select(Submission)).one().received_at == T0
        override = session.scalars(select(CalendarOverride)).one()
        assert override.day == date(2026, 10, 10) and override.superseded_at is None
        assert session.scalars(select(ApiToken)).one().scopes == ["cases:create"]
        assert session.scalars(select(IdempotencyKey)).one().response_status == 201
        assert session.scalars(select(LoginSession)).one().revoked_at is None
        assert session.scalars(select(LoginAttempt)).one().success is False


def _instance(session) -> InstanceRow:
    version = ProcessVersion(
        process_id="general_dispute",
        version=1,
        bundle_sha256="0" * 64,
        source_files={},
        engine_files={},
        deployed_at=T0,
        library_version="3.2.0",
    )
    session.add(version)
    session.flush()
    row = InstanceRow(
        process_version_id=version.id,
        process_id="general_dispute",
        state="{}",
        serializer_version="1.5",
        library_version="3.2.0",
        created_at=T0,
        updated_at=T0,
    )
    session.add(row)
    session.flush()
    return row


def test_open_task_round_trip(factory):
    with use_clock(FrozenClock(T0)), factory() as session:
        seeded = _seed(session)
        instance = _instance(session)
        seeded["case"].workflow_instance_id = instance.id
        session.add(
            OpenTask(
                instance_id=instance.id,
                case_id=seeded["case"].id,
                task_id="t" * 36,
                bpmn_id="sign_off",
                name="签收",
                lane="Handling unit",
                department_id=seeded["dept"].id,
                work_order_id=seeded["case"].work_orders[0].id,
            )
        )
        session.commit()
    with factory() as session:
        task = session.scalars(select(OpenTask)).one()
        assert (task.bpmn_id, task.ready_at, task.due_at) == ("sign_off", T0, None)
        case = session.get(Case, task.case_id)
        assert case.workflow_instance_id == task.instance_id and case.version_id == 2


UNIQUE_CASES = {
    "case_no": lambda: Case(case_no="JF-1", channel="counter"),
    "work_order per round": lambda: WorkOrder(case_id=1, department_id=2, round=1, role="lead"),
    "user_role": lambda: UserRole(user_id=1, role_id=2, department_id=3),
    "unscoped user_role": lambda: UserRole(user_id=1, role_id=2, department_id=None),
    "username": lambda: User(username="li", display_name="李", password_hash="x"),
    "department code": lambda: Department(code="GA", name="公安分局", tier="district"),
    "role code": lambda: Role(code="admin", name_zh="管理员", name_en="Admin"),
    "idempotency key": lambda: IdempotencyKey(
        api_token_id=1, key="k", request_sha256="s", expires_at=T0
    ),
    "open task": lambda: OpenTask(instance_id=1, case_id=1, task_id="t", bpmn_id="b", name="n"),
    "sla clock kind": lambda: SlaClock(
        case_id=1, kind="response", policy="PT24H", started_at=T0, due_at=T0
    ),
    "login session": lambda: LoginSession(id_hash="h", user_id=1, expires_at=T0),
    "case party": lambda: CaseParty(case_id=1, party_id="p", role="applicant"),
}


@pytest.mark.parametrize("make", UNIQUE_CASES.values(), ids=UNIQUE_CASES.keys())
def test_unique_constraints_reject_second_row(loose_session, make):
    loose_session.add(make())
    loose_session.flush()
    loose_session.add(make())
    with pytest.raises(IntegrityError):
        loose_session.flush()


def test_unique_workflow_instance_per_case(loose_session):
    loose_session.add(Case(case_no="A", channel="counter", workflow_instance_id=5))
    loose_session.flush()
    loose_session.add(Case(case_no="B", channel="counter", workflow_instance_id=5))
    with pytest.raises(IntegrityError):
        loose_session.flush()


def test_work_order_next_round_for_same_department_is_allowed(loose_session):
    loose_session.add(WorkOrder(case_id=1, department_id=2, round=1, role="lead"))
    loose_session.add(WorkOrder(case_id=1, department_id=2, round=2, role="lead"))
    loose_session.flush()


def test_stale_case_update_raises(factory):
    with factory() as session:
        case_id = _seed(session)["case"].id
        session.commit()
    first, second = factory(), factory()
    try:
        mine = first.get(Case, case_id)
        first.commit()
        theirs = second.get(Case, case_id)
        second.commit()
        mine.status = CaseStatus.TRIAGE
        first.commit()
        assert mine.version_id == 2
        theirs.status = CaseStatus.CLOSED
        with pytest.raises(StaleDataError):
            second.flush()
    finally:
        second.rollback()
        first.close()
        second.close()
    with factory() as session:
        assert session.get(Case, case_id).status == CaseStatus.TRIAGE


def test_stale_work_order_update_raises(factory):
    with factory() as session:
        order_id = _seed(session)["case"].work_orders[0].id
        session.commit()
    first, second = factory(), factory()
    try:
        mine = first.get(WorkOrder, order_id)
        first.commit()  # BEGIN IMMEDIATE serializes SQLite transactions: end each read
        theirs = second.get(WorkOrder, order_id)
        second.commit()
        mine.status = WorkOrderStatus.ACCEPTED
        first.commit()
        theirs.status = WorkOrderStatus.RETURNED
        with pytest.raises(StaleDataError):
            second.flush()
    finally:
        second.rollback()
        first.close()
        second.close()


# --- the Alembic history: linear, and head builds exactly the schema of the models -------------

needs_migrations = pytest.mark.skipif(
    not (migrations_dir() / "env.py").exists(), reason="migrations/env.py not written yet"
)


def _schema_diffs(url: str) -> list:
    """Upgrade a fresh database to head; return alembic's differences from every model table."""
    command.upgrade(alembic_config(url), "heads")
    return _diffs(url)


def _diffs(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, *rest: _compared(name, type_, sqlite)})
            with warnings.catch_warnings():   # SQLite cannot reflect it; it has none anyway
                warnings.filterwarnings("ignore", message=".*expression-based index "
                                        "'ix_dispute_case_street_registered_at_id'")
                return compare_metadata(context, model_metadata())
    finally:
        engine.dispose()


def _compared(name, type_, sqlite: bool) -> bool:
    """SQLite's FTS5 table ``case_search`` and its shadow tables are not models, and the GIN
    index of the search terms and the street order of the case list exist on PostgreSQL only
    (``ddl_if``; migrations 0015, 0038)."""
    if type_ == "table" and name is not None and name.startswith("case_search"):
        return False
    return not (sqlite and type_ == "index" and name in PG_ONLY)


PG_ONLY = ("ix_dispute_case_search_terms", "ix_dispute_case_street_registered_at_id")


def _tables_left(url: str) -> set[str]:
    command.downgrade(alembic_config(url), "base")
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migration_history_is_one_line_numbered_in_order():
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert len(script.get_heads()) == 1 and len(script.get_bases()) == 1
    assert [r.down_revision for r in revisions] == [None] + [r.revision for r in revisions[:-1]]
    assert [int(r.revision[:4]) for r in revisions] == list(range(1, len(revisions) + 1))
    assert revisions[-1].revision == script.get_current_head()


@needs_migrations
def test_migration_matches_models_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    assert _schema_diffs(url) == []
    assert _tables_left(url) == set()


@pytest.mark.parametrize(("reached", "former"), [
    ("0005_web", "0004_merge"),
    ("0006_checkpoint_append_only", "0005_checkpoint_append_only"),
    ("0007_sla_failures", "0006_merge"),
    ("0008_district", "0007_district"),
])
def test_a_database_stamped_with_a_former_revision_id_upgrades_to_head(tmp_path, reached, former):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), reached)
    engine = create_engine(url)
    with engine.begin() as connection:  # what the branched history left in alembic_version
        connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{former}'")
    engine.dispose()
    command.upgrade(alembic_config(url), "heads")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current(url) == [head]
    assert _diffs(url) == []


@pytest.fixture
def scratch_postgres_url():
    """A throwaway PostgreSQL database next to DATABASE_URL's (never touches that database)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("needs DATABASE_URL=postgresql+psycopg://...")
    name = f"jiefen_scratch_models_{os.getpid()}"
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.dispose()


@needs_migrations
@pytest.mark.postgres
def test_migration_matches_models_on_postgres(scratch_postgres_url):
    assert _schema_diffs(scratch_postgres_url) == []
    assert _tables_left(scratch_postgres_url) == set()
