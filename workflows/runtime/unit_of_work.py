"""UnitOfWork: one transaction for engine step + state + projections + audit + outbox + the case
event log.

``commit()`` here is the only commit in the code base. The unit of work also owns what a race
does to that transaction: a stale versioned row, a unique key taken meanwhile, a deadlock or a
lock timeout, whether raised by ``commit()``, an explicit ``flush()`` or an autoflush before a
query (also when an engine step wrapped it), leaves the block as ``ConcurrentUpdate`` after a
rollback, so nothing of the attempt is written and callers answer 409.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.exc import StaleDataError

from engine.clock import Clock, use_clock
from engine.db import WRITE_OPTION
from engine.errors import ConcurrentUpdate, EngineStepFailed
from engine.instance import Snapshot, WorkflowInstance
from engine.models import InstanceRow, ProcessVersion
from engine.operations import operation_context
from engine.recorder import TaskEventRecorder
from engine.serializer import LIBRARY_VERSION, SERIALIZER_VERSION
from engine.specs import CompiledBundle
from workflows.audit.log import AuditAction, AuditLog
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound
from workflows.district import directory_cache
from workflows.models import Case, fresh
from workflows.notify import case_events
from workflows.notify.outbox import Outbox
from workflows.rollups import maintain as rollups

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services


@dataclass
class OperationContext:
    """What service-task operations may use during one engine step."""

    uow: UnitOfWork
    actor: Actor
    case: Case | None


class UnitOfWork:
    """Owns the session, the pending audit events, outbox rows and the instances it loaded."""

    def __init__(self, services: Services):
        self.services = services
        self._after_commit: list[Callable[[], None]] = []
        # the directory stamp as the request read it before this unit of work (web/context.py)
        self.directory_stamp: directory_cache.Stamp | None = None
        self._writes = True   # False only inside ``reading()``

    def __enter__(self) -> UnitOfWork:
        self.session: Session = self.services.session_factory()
        # SQLite: a unit of work may write, so it takes the write lock at its start (BEGIN
        # IMMEDIATE) and queues instead of failing on a lock upgrade; plain reads do not
        try:
            if self._writes:
                self.session.connection(execution_options={WRITE_OPTION: True})
        except OperationalError as exc:  # the lock not had within the busy timeout
            self.session.close()
            if lost_race(exc):
                raise ConcurrentUpdate("the database is busy") from None
            raise
        directory_cache.carry_stamp(self.session, self.directory_stamp)
        self.audit = AuditLog(self.session, self.services.keyring, self.services.clock)
        case_events.watch(self.session)   # the case event log, written at commit
        rollups.watch(self.session)       # the cockpit's rollups, queued at commit
        fresh.watch(self.session)         # cases and instances this transaction inserted
        self.outbox = Outbox(self.session, self.services.clock)
        self.tracked: dict[int, tuple[InstanceRow, WorkflowInstance]] = {}
        self._read_rows: dict[int, InstanceRow] = {}
        # per instance saved: the state text written, the instance and its snapshot then
        self.saved: dict[int, tuple[str, WorkflowInstance, Snapshot]] = {}
        self.committed = False
        # the instant of the last engine step (a replay reproduces it)
        self.step_at: datetime | None = None
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if not self.committed:
                self.session.rollback()
        finally:
            self.session.close()
        if self.committed and exc is None:
            # what was committed, kept parsed for the next unit of work (engine/instance_cache.py)
            # (not one changed after the commit: it no longer is the state written)
            for instance_id, (state, instance, snap) in self.saved.items():
                if instance.unchanged_since(snap):
                    self.services.instances.put(instance_id, state, instance)
        if exc is not None and lost_race(exc):
            raise ConcurrentUpdate("a concurrent change won") from None

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """This unit of work as a plain read transaction that commits nothing (on SQLite no write
        lock): the checks and loads before a slow step that must not hold the lock up the writes
        after it, which a later ``with uow:`` makes (casework/pdf_documents.py)."""
        self._writes = False
        try:
            with self:
                yield self
        finally:
            self._writes = True

    @staticmethod
    def is_lost_race(exc: BaseException) -> bool:
        """``lost_race``, for callers below this layer (they may not import it)."""
        return lost_race(exc)

    def flush(self) -> None:
        """Flush now; a race (stale row, taken key, deadlock) raises ConcurrentUpdate."""
        try:
            self.session.flush()
        except SQLAlchemyError as exc:
            if lost_race(exc):
                self.session.rollback()
                raise ConcurrentUpdate("a concurrent change won") from None
            raise

    @property
    def clock(self) -> Clock:
        return self.services.clock

    # -- instances --------------------------------------------------------------------------
    def live_version(self, process_id: str) -> ProcessVersion:
        """The newest active version of a process; NotFound if none is deployed. Its files (the
        whole BPMN source, twice) are read only if asked for: the compiled specs are cached."""
        version = self.session.scalars(
            select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                         ProcessVersion.status == "active")
            .options(defer(ProcessVersion.source_files), defer(ProcessVersion.engine_files))
            .order_by(ProcessVersion.version.desc()).limit(1)).first()
        if version is None:
            raise NotFound(ErrorCode.NOT_FOUND, process_id=process_id)
        return version

    def start_instance(self, process_id: str, *, data: dict, actor: Actor, case: Case | None = None,
                       version_id: int | None = None) -> tuple[InstanceRow, WorkflowInstance]:
        """Create an instance on the live (or given) version and run it to its first wait state."""
        if version_id is None:
            version_id = self.live_version(process_id).id
        bundle = self.bundle(version_id)
        instance = WorkflowInstance.create(
            bundle, process_id, script_engine=self.services.script_engine, data=data,
            spec_version=f"{version_id}:{process_id}")
        with self.recording(instance, actor, case=case):
            instance.advance()
        now = self.clock.now()
        row = InstanceRow(process_version_id=version_id, process_id=process_id,
                          serializer_version=SERIALIZER_VERSION, library_version=LIBRARY_VERSION,
                          status="running", version_id=1, created_at=now)
        saved = self._save_state(row, instance, now)   # the INSERT carries the state
        self.session.add(row)
        self.session.flush()
        self.tracked[row.id] = (row, instance)
        self.saved[row.id] = saved
        return row, instance

    def keep_instance_row(self, row: InstanceRow) -> None:
        """An instance row read with its case, for ``load_instance`` (the session itself keeps
        rows only while something refers to them)."""
        self._read_rows[row.id] = row

    def load_instance(self, instance_id: int | None) -> WorkflowInstance:
        """Load (once per unit of work) an instance with the restricted engine attached; NotFound
        also for a case without one (``instance_id`` None)."""
        if instance_id in self.tracked:
            return self.tracked[instance_id][1]
        row = None if instance_id is None else (self._read_rows.pop(instance_id, None)
                                                or self.session.get(InstanceRow, instance_id))
        if instance_id is None or row is None:
            raise NotFound(ErrorCode.NOT_FOUND, instance_id=instance_id)
        self.bundle(row.process_version_id)  # warm the spec cache through this session
        instance = self.services.instances.take(row.id, row.state) \
            or WorkflowInstance.load(row.state, self.services.serializer)
        self.tracked[instance_id] = (row, instance)
        return instance

    def bundle(self, version_id: int) -> CompiledBundle:
        """Compiled specs of a version, read through this unit of work's session on a cache miss.

        (A second connection would wait behind this transaction's SQLite write lock.)"""
        def files() -> dict:
            version = self.session.get(ProcessVersion, version_id)
            if version is None:
                raise NotFound(ErrorCode.VERSION_ID_NOT_FOUND, version_id=version_id)
            return version.engine_files

        return self.services.specs.bundle(str(version_id), files)

    def instance_bundle(self, instance_id: int) -> CompiledBundle | None:
        """The compiled bundle an instance runs on, without deserializing the instance."""
        tracked = self.tracked.get(instance_id)
        row = tracked[0] if tracked is not None else self.session.get(InstanceRow, instance_id)
        return None if row is None else self.bundle(row.process_version_id)

    def instance_row(self, instance_id: int) -> InstanceRow:
        self.load_instance(instance_id)
        return self.tracked[instance_id][0]

    @contextmanager
    def recording(self, instance: WorkflowInstance, actor: Actor, *,
                  case: Case | None = None) -> Iterator[TaskEventRecorder]:
        """Clock, operation context and task recorder for one engine step; events join the audit.

        The whole step runs at one instant (``self.step_at``): every timer it arms is computed from
        that instant, so a replay under the recorded time reproduces the due times exactly."""
        at = self.services.clock.now()
        self.step_at = at
        self.services.calendar.warm(self.session)
        with ExitStack() as stack:
            stack.enter_context(use_clock(lambda: at))
            stack.enter_context(operation_context(OperationContext(self, actor, case)))
            recorder = stack.enter_context(
                TaskEventRecorder(instance.workflow, self.services.serializer.registry, lambda: at))
            yield recorder
        if recorder.transitions:   # one event per step (engine/recorder.py, docs/audit.md)
            self.audit.record_copy(AuditAction.ENGINE_STEP, actor, recorder.step_payload(),
                                   case=case, object_type="engine_step")

    # -- commit -----------------------------------------------------------------------------
    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def commit(self) -> None:
        """Save instances, append audit events and commit once; a stale write raises ConcurrentUpdate."""
        if not self._writes:
            raise RuntimeError("a unit of work opened by reading() commits nothing")
        try:
            self._save_instances()
            self.session.flush()
            self.audit.append_pending()
            self.session.flush()
            case_events.append_pending(self.session, self.clock.now())
            rollups.queue_pending(self.session)
            self.session.commit()
        except SQLAlchemyError as exc:
            self.session.rollback()
            fresh.forget(self.session)
            if lost_race(exc):
                raise ConcurrentUpdate("a concurrent change won") from None
            raise
        self.committed = True
        fresh.forget(self.session)
        for callback in self._after_commit:
            callback()

    def _save_instances(self) -> None:
        now = self.clock.now()
        for row, instance in self.tracked.values():
            saved = self.saved.get(row.id)
            if saved is not None and saved[1] is instance and instance.unchanged_since(saved[2]):
                continue   # written since its last change (an instance started here)
            self.saved[row.id] = self._save_state(row, instance, now)

    def _save_state(self, row: InstanceRow, instance: WorkflowInstance, now: datetime
                    ) -> tuple[str, WorkflowInstance, Snapshot]:
        """Put the instance's state and what is read of it on its row."""
        snap = instance.snapshot()
        instance.compact()   # finished sub-processes leave the state (the digest stays)
        row.state = instance.dump(self.services.serializer)
        row.due_at = snap.due_at
        row.status = _status(row.status, snap)
        row.state_digest = snap.digest
        row.max_depth = snap.max_depth
        row.updated_at = now
        return row.state, instance, snap


def _status(current: str, snap: Snapshot) -> str:
    if snap.completed:
        return "completed"
    if current in ("cancelled", "incident"):
        return current
    return "running" if snap.has_ready_tasks else "waiting"


def lost_race(exc: BaseException) -> bool:
    """True if ``exc`` is (or, for an engine step or a SQLAlchemy error, was caused by) a lost race:
    a stale versioned row, a unique key another transaction took, a deadlock, a serialization
    failure or a lock that could not be had. Other integrity errors are bugs and stay errors."""
    current: BaseException | None = exc
    in_step = False   # below an engine step, the library's own wrappers are looked through
    for _depth in range(8):
        if current is None:
            return False
        if isinstance(current, StaleDataError):
            return True
        if isinstance(current, (IntegrityError, OperationalError)):
            return _is_conflict(current)
        in_step = in_step or isinstance(current, EngineStepFailed)
        if not in_step and not isinstance(current, SQLAlchemyError):
            return False
        current = current.__cause__ or getattr(current, "exception", None) or current.__context__
    return False


def _is_conflict(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(word in text for word in ("unique", "duplicate key", "serializ", "deadlock",
                                         "could not obtain lock", "database is locked"))
