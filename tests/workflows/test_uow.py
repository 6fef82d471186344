"""One transaction per engine step: state, due time, audit events and outbox commit together or not at all."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from engine.errors import ConcurrentUpdate, EngineStepFailed
from engine.models import InstanceRow, OutboxMessage, ProcessVersion
from tests.workflows.engine_helpers import MEDIATOR, complete, deploy_simple, events, start_simple
from workflows.core.actors import SYSTEM
from workflows.runtime.unit_of_work import lost_race


@pytest.fixture
def instance_id(services):
    deploy_simple(services)
    return start_simple(services)


def row(services, instance_id) -> InstanceRow:
    with services.session_factory() as session:
        return session.get(InstanceRow, instance_id)


def test_state_is_stored_without_spec_and_due_at_is_the_earliest_timer(services, instance_id, clock):
    stored = row(services, instance_id)
    assert '"spec_version"' in stored.state and '"task_specs"' not in stored.state
    assert stored.due_at == clock.now().replace(hour=3)          # PT2H deadline on 'mediate'
    assert stored.status == "running"
    assert stored.serializer_version == "1.5"
    # the installed SpiffWorkflow release, on the instance and on the version it runs
    assert stored.library_version == version("SpiffWorkflow")
    with services.session_factory() as session:
        assert session.get(ProcessVersion, stored.process_version_id).library_version == version("SpiffWorkflow")


def test_completion_commits_state_audit_and_outbox_together(services, instance_id):
    version = row(services, instance_id).version_id
    complete(services, instance_id, "mediate", {"amount": 5000})
    stored = row(services, instance_id)
    assert stored.version_id == version + 1
    assert stored.due_at is None                                  # no timer armed on 'review'
    changes = events(services, "case:42", "task_state_changed")
    mediate = [e for e in changes if json.loads(e.payload)["task"] == "mediate"
               and json.loads(e.payload)["to"] == "COMPLETED"]
    payload = json.loads(mediate[0].payload)
    assert payload["from"] == "READY" and payload["data_after"]["amount"] == 5000
    assert mediate[0].actor_id == MEDIATOR.id and mediate[0].actor_role == "mediator"


def test_an_exception_before_commit_leaves_the_previous_state_and_an_intact_chain(services,
                                                                                instance_id):
    before = row(services, instance_id)
    count = len(events(services, "case:42"))
    uow = services.new_uow()
    with pytest.raises(RuntimeError, match="crash"), uow:
        instance = uow.load_instance(instance_id)
        with uow.recording(instance, MEDIATOR, case=42):
            instance.complete(instance.find_ready("mediate").id, {"amount": 5000})
        uow.outbox.add(channel="file", recipient_type="party", recipient_id="p1", template="x",
                       params={}, dedupe_key="crash-test", case=42)
        raise RuntimeError("crash between engine step and commit")
    after = row(services, instance_id)
    assert after.state == before.state and after.version_id == before.version_id
    assert len(events(services, "case:42")) == count
    with services.session_factory() as session:
        assert session.query(OutboxMessage).filter_by(dedupe_key="crash-test").count() == 0
    complete(services, instance_id, "mediate", {"amount": 5})      # and work goes on normally


def test_stale_commit_raises_concurrent_update_and_writes_nothing(services, instance_id):
    """Someone else's commit bumped the row version after we loaded it (PostgreSQL races are
    exercised for real in tests/postgres)."""
    before = row(services, instance_id)
    uow = services.new_uow()
    with uow:
        instance = uow.load_instance(instance_id)
        uow.session.execute(
            update(InstanceRow).where(InstanceRow.id == instance_id)
            .values(version_id=InstanceRow.version_id + 1)
            .execution_options(synchronize_session=False))
        with uow.recording(instance, SYSTEM, case=42):
            instance.complete(instance.find_ready("mediate").id, {"amount": 2})
        with pytest.raises(ConcurrentUpdate):
            uow.commit()
    assert row(services, instance_id).state == before.state
    assert not [e for e in events(services, "case:42", "task_state_changed")
                if json.loads(e.payload)["to"] == "COMPLETED"
                and json.loads(e.payload)["task"] == "mediate"]


def test_a_stale_autoflush_before_commit_is_a_concurrent_update_and_writes_nothing(services,
                                                                                   instance_id):
    """The race shows up at a query's autoflush, before ``commit()``: still 409, nothing saved."""
    before = row(services, instance_id)
    count = len(events(services, "case:42"))
    uow = services.new_uow()
    with pytest.raises(ConcurrentUpdate), uow:
        loaded = uow.instance_row(instance_id)
        uow.session.execute(
            update(InstanceRow).where(InstanceRow.id == instance_id)
            .values(version_id=InstanceRow.version_id + 1)
            .execution_options(synchronize_session=False))
        uow.audit.record("case_updated", SYSTEM, case=42, change="autoflush")
        loaded.status = "waiting"
        uow.session.scalars(select(InstanceRow.id)).all()        # autoflush: the stale UPDATE
    after = row(services, instance_id)
    assert (after.status, after.version_id) == (before.status, before.version_id)
    assert len(events(services, "case:42")) == count


def test_a_key_taken_meanwhile_is_a_concurrent_update_other_integrity_errors_are_not(services,
                                                                                    clock):
    def message(recipient: str, channel: str | None, key: str) -> OutboxMessage:
        return OutboxMessage(channel=channel, recipient_type="party", recipient_id=recipient,
                             template="x", params={}, dedupe_key=key, created_at=clock.now())

    with services.new_uow() as uow:
        uow.session.add(message("p1", "file", "taken"))
        uow.commit()
    with pytest.raises(ConcurrentUpdate), services.new_uow() as uow:
        uow.session.add(message("p2", "file", "taken"))
        uow.flush()
    with pytest.raises(IntegrityError), services.new_uow() as uow:  # a bug, not a race: 500
        uow.session.add(message("p3", None, "fresh"))
        uow.flush()


def test_a_race_inside_an_engine_step_is_a_concurrent_update_not_an_incident():
    """An operation's query inside an engine step may autoflush into a taken key: the step's
    wrapper must not turn the lost race into a process incident."""
    taken = IntegrityError("INSERT", {}, Exception("duplicate key value violates unique constraint"))
    try:
        try:
            raise taken
        except IntegrityError as inner:
            raise EngineStepFailed("operation failed", "dispatch") from inner
    except EngineStepFailed as step:
        assert lost_race(step)
    assert not lost_race(EngineStepFailed("name 'x' is not defined", "gateway"))
    assert not lost_race(IntegrityError("INSERT", {}, Exception("NOT NULL constraint failed")))


def test_audit_payload_is_a_copy_taken_at_event_time(services):
    uow = services.new_uow()
    data = {"ids": [1]}
    with uow:
        uow.audit.record("case_updated", SYSTEM, case=7, parties=data)
        data["ids"].append(2)                                    # a later in-place change ...
        uow.commit()
    assert json.loads(events(services, "case:7")[0].payload) == {"parties": {"ids": [1]}}


def test_a_write_lock_not_had_in_time_is_a_concurrent_update(services, monkeypatch):
    """SQLite's busy timeout (or a PostgreSQL lock timeout) at the start of a unit of work."""
    from sqlalchemy.exc import OperationalError

    class Busy:
        def connection(self, **_kwargs):
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

        def close(self):
            pass

    monkeypatch.setattr(services, "session_factory", Busy)
    with pytest.raises(ConcurrentUpdate), services.new_uow():
        pass
