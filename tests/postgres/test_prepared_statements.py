"""PostgreSQL keeps the statements a connection sends again and again prepared: transactions that
wrote nothing end with COMMIT (engine/db.py), so psycopg's prepared statements outlive them,
while a transaction that wrote, or failed, is rolled back as ever (real commits, a real pool)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import PG
from tests.postgres.test_api_races import api  # noqa: F401 (the fixture)
from workflows.models import Case, Department

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def _prepared(engine) -> set[str]:
    """The statements prepared on each connection the pool holds (all checked out at once)."""
    held = [engine.connect() for _ in range(engine.pool.checkedin())]
    try:
        return {statement for connection in held for (statement,) in connection.exec_driver_sql(
            "SELECT statement FROM pg_prepared_statements")}
    finally:
        for connection in held:
            connection.close()


def test_after_a_few_requests_the_token_read_is_a_prepared_statement(api,  # noqa: F811
                                                                     committed_services):
    app, clerk, _triage = api
    client = app.test_client()
    code = client.post("/api/v1/cases", json={
        "category": "property", "summary": "电梯停运", "description": "两部电梯停运两周。",
        "parties": [{"role": "applicant", "name": "刘淑芬", "phone": "13800000001"}]},
        headers=clerk).get_json()["case_no"]
    for _ in range(8):
        assert client.get(f"/api/v1/cases/{code}", headers=clerk).status_code == 200

    prepared = _prepared(committed_services.db)

    assert any("FROM api_token" in statement for statement in prepared), sorted(prepared)


def test_a_failed_write_transaction_is_still_rolled_back(committed_services):
    services = committed_services
    with pytest.raises(RuntimeError), services.new_uow() as uow:   # fails after its flush
        uow.session.add(Department(code="HALF", name="写了一半", tier="district",
                                   responsibilities=[]))
        uow.session.flush()
        raise RuntimeError("the request failed")
    with services.new_uow() as uow:                                 # fails in the database
        uow.session.add(Department(code="TWICE", name="重复", tier="district",
                                   responsibilities=[]))
        uow.session.flush()
        uow.session.add(Department(code="TWICE", name="重复", tier="district",
                                   responsibilities=[]))
        with pytest.raises(IntegrityError):
            uow.session.flush()
        uow.session.rollback()
    with services.session_factory() as session:                     # a savepoint's write
        session.scalar(select(Case.id).limit(1))
        with session.begin_nested() as nested:
            session.add(Department(code="NESTED", name="内层", tier="district",
                                   responsibilities=[]))
            session.flush()
            nested.rollback()

    with services.session_factory() as session:
        assert session.scalars(select(Department.code).where(
            Department.code.in_(["HALF", "TWICE", "NESTED"]))).all() == []


def test_a_connection_lost_in_a_read_is_replaced(committed_services):
    engine = committed_services.db
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            other.commit()
        with pytest.raises(Exception, match="connection"):
            connection.rollback()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1


def test_a_connection_given_back_with_its_transaction_open_keeps_its_prepared_statements(
        committed_services):
    engine = committed_services.db
    engine.dispose()                         # one connection in the pool, used twice
    raw = engine.raw_connection()
    cursor = raw.cursor()
    for _ in range(6):
        cursor.execute("SELECT count(*) FROM department WHERE tier = %s", ("district",))
    cursor.close()
    raw.close()                              # the pool's reset: COMMIT, as it wrote nothing

    assert any("FROM department WHERE tier" in statement for statement in _prepared(engine))
