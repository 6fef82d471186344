"""The units and lane roles a process keeps while the directory stamp is unchanged: a step whose
case read brought the stamp reads neither; a unit changed through the admin service, or by
another process, moves the stamp, and the next step reads them again and routes to the change
(statements counted with an SQLAlchemy event listener; never timed)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from tests.bpmn.test_services_general import local, registered
from tests.factories import Walk, make_user, seed
from tests.workflows.test_step_statements import counted
from workflows.casework.projection import lane_roles
from workflows.casework.tasks import complete_task
from workflows.district.units import UnitResolver
from workflows.models import Department, DirectoryStamp, Role
from workflows.people import admin
from workflows.runtime.bootstrap import bootstrap


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def unit_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM department LEFT OUTER JOIN place" in s]


def role_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if " ".join(s.split()).startswith("SELECT role.code")]


def complete(walk: Walk, engine, bpmn_id: str, **form) -> list[str]:
    """Complete one open task as its natural user; what the completion alone sent."""
    task = walk.task(bpmn_id)
    actor = walk.actor_for(task)
    with counted(engine) as statements:
        complete_task(walk.services.new_uow(), actor, case_no=walk.case_no,
                      task_id=task["task_id"], raw=form)
    return statements


def returned_to_redispatch(walk: Walk, engine) -> list[str]:
    """A registered case whose lead department returns it: what the return sent."""
    registered(walk)
    sent = complete(walk, engine, "sign_off", sign_off_decision="return",
                    return_reason="属生态环境部门职责", return_basis="职责清单第3条")
    assert walk.ids() == ["redispatch"]
    return sent


def test_a_step_whose_case_read_brought_the_stamp_reads_no_units_and_no_roles(walk, db_engine):
    sent = returned_to_redispatch(walk, db_engine)

    assert unit_reads(sent) == [], "\n".join(sent)
    assert role_reads(sent) == [], "\n".join(sent)
    assert "directory_stamp" in sent[0]      # the case read carries it


def test_a_unit_changed_through_the_admin_service_is_routed_to_by_the_next_step(walk, db_engine):
    services = walk.services
    assert unit_reads(returned_to_redispatch(walk, db_engine)) == []
    chief = make_user(services, "admin")
    admin.update_unit(services.new_uow(), chief, code="HJ", name="区生态环境分局", kind="HJ",
                      place_code=None, active=False)
    admin.create_unit(services.new_uow(), chief, code="HJ2", name="区生态环境分局（新）",
                      kind="HJ")

    sent = complete(walk, db_engine, "redispatch", department="HJ",
                    redispatch_note="退单成立，改派生态环境分局")

    assert walk.orders()[-1] == ("HJ2", "lead", 1, "dispatched")
    assert len(unit_reads(sent)) == 1, "\n".join(sent)      # read again once ...
    sent = complete(walk, db_engine, "sign_off", sign_off_decision="accept")
    assert unit_reads(sent) == [], "\n".join(sent)          # ... and kept again


def test_another_processs_change_moves_the_stamp_and_the_next_step_reads_again(walk, db_engine):
    services = walk.services
    returned_to_redispatch(walk, db_engine)
    # a change in plain SQL (a migration, psql by hand): the database's triggers move the stamp
    with services.new_uow() as uow:
        uow.session.execute(text("UPDATE department SET active = :no WHERE code = 'HJ'"),
                            {"no": False})
        uow.session.execute(text("UPDATE department SET kind = 'HJ' WHERE code = 'ZR'"))
        uow.commit()

    sent = complete(walk, db_engine, "redispatch", department="HJ",
                    redispatch_note="退单成立，改派生态环境分局")

    assert walk.orders()[-1] == ("ZR", "lead", 1, "dispatched")
    assert len(unit_reads(sent)) == 1, "\n".join(sent)


def test_a_unit_changed_by_another_process_is_routed_to_by_this_ones_next_step(
        committed_services, clock, keyring):
    """Two processes on one database, each with its own engine and what it keeps (real commits)."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(committed_services, clock)
    returned_to_redispatch(walk, committed_services.db)
    other = bootstrap(committed_services.settings, clock=clock, keyring=keyring)
    try:
        chief = make_user(other, "admin")
        admin.update_unit(other.new_uow(), chief, code="HJ", name="区生态环境分局", kind="HJ",
                          place_code=None, active=False)
        admin.create_unit(other.new_uow(), chief, code="HJ2", name="区生态环境分局（新）",
                          kind="HJ")
    finally:
        other.db.dispose()

    sent = complete(walk, committed_services.db, "redispatch", department="HJ",
                    redispatch_note="退单成立，改派生态环境分局")

    assert walk.orders()[-1] == ("HJ2", "lead", 1, "dispatched")
    assert len(unit_reads(sent)) == 1, "\n".join(sent)


def test_a_session_without_the_stamp_reads_only_the_stamp_and_sees_its_own_change(walk,
                                                                                 db_engine):
    services = walk.services
    with services.new_uow() as uow:
        assert UnitResolver(uow.session).unit_of_kind("HJ").code == "HJ"
    with services.new_uow() as uow, counted(db_engine) as sent:
        # a CLI or scheduler session: one read of the stamp stands for the unit read
        assert UnitResolver(uow.session).unit_of_kind("HJ").code == "HJ"
        assert len(sent) == 1 and "directory_stamp" in sent[0] and not unit_reads(sent)
        # its own change, not committed yet, is not answered from what the process keeps
        uow.session.add(Department(code="HJ2", name="区生态环境分局（新）", kind="HJ",
                                   tier="district", active=True, responsibilities=[]))
        hj = uow.session.scalars(select(Department).where(Department.code == "HJ")).one()
        hj.active = False
        uow.session.flush()
        assert UnitResolver(uow.session).unit_of_kind("HJ").code == "HJ2"
        hj.active = True                            # and its next change too
        uow.session.flush()
        assert UnitResolver(uow.session).unit_of_kind("HJ").code == "HJ"
        hj.active = False
        uow.commit()
    with services.new_uow() as uow:
        assert UnitResolver(uow.session).unit_of_kind("HJ").code == "HJ2"


def test_every_write_to_the_directory_moves_the_stamp_and_nothing_else_does(walk):
    services = walk.services

    def stamp() -> tuple[int, int]:
        with services.session_factory() as session:
            row = session.execute(select(DirectoryStamp.version, DirectoryStamp.token)).one()
            return row.version, row.token

    before = stamp()
    with services.new_uow() as uow:
        for unit in uow.session.scalars(select(Department).where(Department.code.in_(["HJ", "CG"]))):
            unit.name += "（改）"
        uow.session.add(Department(code="HJ3", name="x", kind="HJ", tier="district",
                                   responsibilities=[]))
        uow.commit()
    after = stamp()
    assert after[0] > before[0] and after[1] != before[1]
    make_user(services, "mediator")             # a user is no part of the directory
    assert stamp() == after


def _first_role(session):
    return session.execute(select(Role.code, Role.name_zh).order_by(Role.id)).first()


def test_a_driver_level_write_is_seen_by_the_same_transactions_reads(services):
    """A directory write this transaction sent as plain SQL is seen by its later reads."""
    seed(services)
    with services.session_factory() as session:
        code, zh = _first_role(session)
        assert lane_roles(session)[zh] == code          # kept under the stamp, noted
        session.connection().exec_driver_sql(
            f"UPDATE role SET name_zh = 'ZZ新名' WHERE code = '{code}'")
        assert session.scalar(select(Role.name_zh).where(Role.code == code)) == "ZZ新名"
        roles = lane_roles(session)
        assert "ZZ新名" in roles, "cached lane roles do not see this transaction's own write"


def test_an_insert_or_replace_is_seen_by_the_same_transactions_reads(services):
    if services.db.dialect.name != "sqlite":
        pytest.skip("SQLite's INSERT OR REPLACE")
    seed(services)
    with services.session_factory() as session:
        code, zh = _first_role(session)
        rid = session.scalar(select(Role.id).where(Role.code == code))
        name_en = session.scalar(select(Role.name_en).where(Role.code == code))
        assert lane_roles(session)[zh] == code
        session.execute(text("INSERT OR REPLACE INTO role (id, code, name_zh, name_en) "
                             "VALUES (:i, :c, 'YY新名', :e)"), {"i": rid, "c": code, "e": name_en})
        roles = lane_roles(session)
        assert "YY新名" in roles, "INSERT OR REPLACE text not counted"


def test_a_write_rolled_back_with_its_savepoint_is_not_served(services):
    seed(services)
    with services.session_factory() as session:
        code, zh = _first_role(session)
        assert lane_roles(session)[zh] == code
        with session.begin_nested() as nested:
            session.execute(update(Role).where(Role.code == code).values(name_zh="XX撤回"))
            assert "XX撤回" in lane_roles(session)
            nested.rollback()
        assert session.scalar(select(Role.name_zh).where(Role.code == code)) == zh
        roles = lane_roles(session)
        assert "XX撤回" not in roles, "a rolled-back savepoint's write is still served"
