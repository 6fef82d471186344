"""APScheduler jobs: module-level functions taking ``Services``, and ``build_scheduler``. The
database is the queue (MemoryJobStore): a restarted scheduler catches up on its first sweep.

``timers.sweep`` re-arms itself at min(next due timer, next SLA check, now + JIEFEN_SWEEP_MAX_SLEEP):
its trigger provisionally schedules the next run at now + max sleep, and when a run finishes a job
listener moves the next run to the time the sweep returned. The job is never removed, so neither a
failing run nor a run that finishes before APScheduler has bookkept it can end the chain of sweeps
(a date job re-added from inside itself can be removed again by the scheduler in that case).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_SCHEDULER_START,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import CursorResult, Delete, delete

from workflows.audit.checkpoints import HeadExporter, HttpSink
from workflows.audit.verification import run_verification
from workflows.channels import feeds
from workflows.channels import health as channel_health
from workflows.core.actors import SCHEDULER
from workflows.deadlines.calendar_admin import horizon_warning
from workflows.early_warning import evaluate as warning_rules
from workflows.models import IdempotencyKey, LoginAttempt, LoginSession
from workflows.notify import delivery as notifications
from workflows.reports.periodic import generate
from workflows.rollups.catch_up import catch_up, retry_parked
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork
from workflows.scheduler import sla_sweep, timers
from workflows.scheduler.claims import forget_old, once_per

log = logging.getLogger(__name__)

SWEEP_JOB = "timers.sweep"
WARNINGS_JOB = "warnings.evaluate"
MIN_IDLE_SLEEP = timedelta(milliseconds=100)   # when a sweep found work it could not finish
SHIP_INTERVAL = 15                             # seconds between rounds of the HTTP heads sink
ROLLUP_ROUNDS = 20                             # rollup batches per catch-up run
_exporter = HeadExporter()


# -- job functions ------------------------------------------------------------------------------
def timers_sweep(services: Services) -> datetime:
    """Fire due BPMN timers, check SLA clocks and lights, export the heads that moved (whoever
    moved them); returns when to run next."""
    now = services.clock.now()
    result = timers.sweep(services, now)
    try:
        sla_sweep.sweep_sla(services, now)
    except Exception:  # an SLA problem must not stop BPMN timers from firing
        log.exception("SLA sweep failed")
    try:
        _exporter.export(services, reason="sweep", if_new_events=True)
    except Exception:  # the next sweep or the interval export tries again
        log.exception("audit heads export after the sweep failed")
    busy = result.fired + result.failures >= services.settings.sweep_batch
    return next_run(services, now, busy=busy or bool(result.skipped))


def next_run(services: Services, now: datetime, *, busy: bool = False) -> datetime:
    """min(next due timer, next SLA check, now + max sleep); at once when more work is due."""
    if busy:
        return now
    cap = now + timedelta(seconds=services.settings.sweep_max_sleep)
    moments = [m for m in (timers.next_due_at(services), sla_sweep.next_check_at(services)) if m]
    # SpiffWorkflow fires a timer strictly after its due time: aim a millisecond past it
    earliest = min([m + timedelta(milliseconds=1) for m in moments] + [cap])
    return max(earliest, now + MIN_IDLE_SLEEP) if earliest <= now else earliest


def outbox_deliver(services: Services) -> int:
    """Queue new case events for feeds and callbacks, then deliver due outbox messages (every
    JIEFEN_OUTBOX_INTERVAL seconds)."""
    feeds.install(services)
    try:
        while feeds.fan_out(services) == feeds.BATCH:
            pass
    except Exception:  # a failing fan-out must not stop the other notifications
        log.exception("case event fan-out failed")
    return notifications.drain(services).sent


def rollups_catch_up(services: Services) -> int:
    """Apply the cases queued for the cockpit's rollups (every JIEFEN_ROLLUP_INTERVAL seconds),
    so the queue stays short while nobody reads the cockpit; at most ROLLUP_ROUNDS batches a
    run (the next run goes on), then the parked cases whose retry is due. Schedulers share the
    queue row by row (SKIP LOCKED)."""
    return catch_up(services, rounds=ROLLUP_ROUNDS) + retry_parked(services)


def interface_silence(services: Services) -> int:
    """Warn about interfaces silent longer than their expected interval."""
    return channel_health.check_silence(services)


def audit_export_heads(services: Services, full: bool = False,
                       reason: str = "interval") -> int | None:
    """Write an audit checkpoint (every JIEFEN_AUDIT_HEADS_INTERVAL_MINUTES; full at start,
    daily and at shutdown) and send what the HTTP sink has not accepted yet."""
    checkpoint = _exporter.export(services, full=full, reason=reason)
    ship_heads(services)
    return checkpoint.id if checkpoint is not None else None


def ship_heads(services: Services) -> int:
    """Send the spooled heads records to the HTTP sink (if one is configured); never raises."""
    try:
        return HttpSink(services.settings).drain()
    except Exception:  # the spool keeps them for the next round
        log.exception("shipping audit heads to the HTTP sink failed")
        return 0


def _deleted(uow: UnitOfWork, statement: Delete) -> int:
    result = cast(CursorResult, uow.session.execute(statement))  # a DELETE has a row count
    return result.rowcount


def housekeeping_daily(services: Services) -> dict:
    """Expired idempotency keys, old login sessions and attempts; reconciliation; calendar alarm."""
    now = services.clock.now()
    with services.new_uow() as uow:
        deleted = {
            "idempotency_keys": _deleted(uow, delete(IdempotencyKey).where(
                IdempotencyKey.expires_at < now)),
            "login_sessions": _deleted(uow, delete(LoginSession).where(
                LoginSession.expires_at < now - timedelta(days=1))),
            "login_attempts": _deleted(uow, delete(LoginAttempt).where(
                LoginAttempt.at < now - timedelta(days=30))),
        }
        uow.commit()
    with services.session_factory() as session:
        stale = notifications.undelivered(session, now - timedelta(hours=1))
    warning = horizon_warning(services, now)
    if stale:
        log.warning("outbox reconciliation: %d undelivered messages", len(stale))
    if warning:
        log.warning("%s", warning)
    audit_export_heads(services, full=True, reason="daily")
    deleted["scheduler_claims"] = forget_old(services)
    return {**deleted, "undelivered": len(stale), "calendar_warning": warning}


def audit_verify_nightly(services: Services) -> dict:
    """Verify the events appended since the last run (signed positions move on); a break is
    logged as an error and recorded with the run, for the auditors' page."""
    report = run_verification(services, SCHEDULER, incremental=True)
    if not report.ok:
        log.error("audit chain broken: %s", report.breaks[0])
    return {"chains": report.chains, "events": report.events, "breaks": len(report.breaks)}


def periodic_report(services: Services, kind: str) -> int:
    """Generate the report for the period that just ended (weekly, monthly, quarterly)."""
    report = generate(services, kind, at=services.clock.now())
    return report.id


def warnings_evaluate(services: Services) -> dict[str, int]:
    """Run the early-warning rules (hourly); idempotent: a warning is raised once per rule,
    subject and window."""
    return warning_rules.evaluate(services, services.clock.now())


def run_once(services: Services, *, max_rounds: int = 50) -> dict:
    """One sweep as ``jiefen scheduler --once`` runs it: timers until none due, SLA, outbox,
    then a full heads export (a new process has no earlier export to take a delta from)."""
    now = services.clock.now()
    fired = failures = 0
    for _ in range(max_rounds):
        result = timers.sweep(services, now)
        fired, failures = fired + result.fired, failures + result.failures
        if not timers.due_candidates(services, now, 1) or result.fired + result.failures == 0:
            break
    checked = sla_sweep.sweep_sla(services, now)
    feeds.install(services)
    feeds.fan_out(services)
    channel_health.check_silence(services, now)
    warnings = warning_rules.evaluate(services, now)
    sent = notifications.drain(services).sent
    rolled = catch_up(services) + retry_parked(services)
    checkpoint = HeadExporter().export(services, full=True, reason="once")
    ship_heads(services)
    return {"now": now, "fired": fired, "failures": failures, "sla_cases": checked, "warnings": warnings,
            "sent": sent, "rollups": rolled,
            "checkpoint": checkpoint.id if checkpoint is not None else None}


# -- the scheduler ------------------------------------------------------------------------------
def build_scheduler(services: Services, blocking: bool = False) -> BaseScheduler:
    """The scheduler with every job registered under a stable id (docs/scheduler.md)."""
    settings = services.settings
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(timezone=ZoneInfo(settings.timezone), job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    scheduler.add_listener(_rearm_sweep(scheduler, services),
                           EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.add_listener(SKIPS.note, EVENT_JOB_MAX_INSTANCES)
    scheduler.add_job(timers_sweep, SweepTrigger(settings.sweep_max_sleep), id=SWEEP_JOB,
                      args=[services])
    scheduler.add_job(outbox_deliver, "interval", id="outbox.deliver", args=[services],
                      seconds=settings.outbox_interval)
    scheduler.add_job(rollups_catch_up, "interval", id="rollups.catch_up", args=[services],
                      seconds=settings.rollup_interval)
    scheduler.add_job(interface_silence, "interval", id="channels.silence", args=[services],
                      minutes=settings.silence_check_minutes)
    scheduler.add_job(audit_export_heads, "date", id="audit.export_heads.start",
                      args=[services, True, "start"], run_date=datetime.now(scheduler.timezone))
    scheduler.add_job(audit_export_heads, "interval", id="audit.export_heads", args=[services],
                      minutes=settings.audit_heads_interval_minutes)
    if settings.audit_heads_url:
        scheduler.add_job(ship_heads, "interval", id="audit.ship_heads", args=[services],
                          seconds=SHIP_INTERVAL)
    # once-per-period jobs claim their slot: any number of schedulers may share the database
    scheduler.add_job(once_per("day")(housekeeping_daily), "cron", id="housekeeping.daily",
                      args=[services],
                      hour=3, minute=15)
    scheduler.add_job(once_per("day")(audit_verify_nightly), "cron", id="audit.verify_nightly",
                      args=[services], hour=2, minute=30)
    scheduler.add_job(once_per("hour")(warnings_evaluate), "cron", id=WARNINGS_JOB,
                      args=[services], minute=5)
    for job_id, report, cron in REPORT_JOBS:
        scheduler.add_job(once_per("day")(periodic_report), "cron", id=job_id,
                          args=[services, report], **cron)
    return scheduler


REPORT_JOBS = (
    ("reports.weekly", "weekly", {"day_of_week": "mon", "hour": 6, "minute": 0}),
    ("reports.monthly", "monthly", {"day": 1, "hour": 6, "minute": 10}),
    ("reports.quarterly", "quarterly", {"month": "1,4,7,10", "day": 1, "hour": 6, "minute": 20}),
)


class SweepTrigger(BaseTrigger):
    """At once when added; afterwards provisionally max-sleep later (the listener brings it on)."""

    def __init__(self, max_sleep: float):
        self.max_sleep = timedelta(seconds=max_sleep)

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime:
        return now if previous_fire_time is None else now + self.max_sleep

    def __str__(self) -> str:
        return f"sweep[max sleep {self.max_sleep.total_seconds()} s]"


class SkippedRuns(logging.Filter):
    """Runs folded into the one still running. A job whose run outlasts its interval (a sweep
    with much to do) is due again while it runs; with one instance per job APScheduler skips
    that run and warns each time, although the running one does the same work. The warning is
    dropped here and the skips counted per job; one line at INFO says so, at most once a
    minute per job, so a busy scheduler's console stays readable."""

    QUIET = 60.0   # seconds between two such lines for one job

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self._said: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING
                    and str(record.msg).startswith("Execution of job")
                    and "maximum number of running instances" in str(record.msg))

    def note(self, event: JobEvent) -> None:
        with self._lock:
            count = self.counts[event.job_id] = self.counts.get(event.job_id, 0) + 1
            now = time.monotonic()
            if now - self._said.get(event.job_id, -self.QUIET) < self.QUIET:
                return
            self._said[event.job_id] = now
        log.info("%s still running when due again: that run is left to it (%d so far)",
                 event.job_id, count)


SKIPS = SkippedRuns()
logging.getLogger("apscheduler.scheduler").addFilter(SKIPS)


def _rearm_sweep(scheduler: BaseScheduler, services: Services) -> Callable[[JobEvent], None]:
    def listener(event: JobEvent) -> None:
        if event.job_id != SWEEP_JOB or not scheduler.running:
            return
        if getattr(event, "exception", None) is not None:
            log.error("timer sweep failed: %s", event.exception)
            return  # the provisional next run (now + max sleep) stands
        if isinstance(event, JobExecutionEvent) and isinstance(event.retval, datetime):
            arm_sweep(scheduler, services, event.retval)
    return listener


def arm_sweep(scheduler: BaseScheduler, services: Services, run_at: datetime) -> None:
    """Move the next sweep to ``run_at`` (read on the services clock, run on the wall clock)."""
    delay = max((run_at - services.clock.now()).total_seconds(), 0.0)
    wall = datetime.now(scheduler.timezone) + timedelta(seconds=delay)
    try:
        scheduler.modify_job(SWEEP_JOB, next_run_time=wall)
    except JobLookupError:  # the scheduler is shutting down
        pass


_embedded: dict[str, BaseScheduler] = {}


def start_embedded_scheduler(services: Services) -> BaseScheduler:
    """The dev server's BackgroundScheduler (``jiefen serve --dev``); started once per process."""
    import atexit

    if "scheduler" in _embedded and _embedded["scheduler"].running:
        return _embedded["scheduler"]
    scheduler = build_scheduler(services, blocking=False)
    scheduler.start()
    _embedded["scheduler"] = scheduler

    def stop() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=True)
            audit_export_heads(services, full=True, reason="stop")

    atexit.register(stop)
    return scheduler


def stop_scheduler(scheduler: BaseScheduler, services: Services) -> None:
    """Shut down (a running sweep finishes first), then the closing full checkpoint, shipped."""
    if scheduler.running:
        scheduler.shutdown(wait=True)
    audit_export_heads(services, full=True, reason="stop")


class SignalStop:
    """A signal handler that ends a ``BlockingScheduler``'s loop, whenever the signal comes.

    It only flags the request and hands the shutdown to a thread: an exception raised by the
    handler inside APScheduler's loop would be caught and logged there, and the loop's locks are
    not re-entrant for a handler running on the same thread. A signal before the scheduler runs
    is acted on when it starts."""

    def __init__(self, scheduler: BaseScheduler):
        self.scheduler = scheduler
        self.requested = threading.Event()
        self.thread: threading.Thread | None = None
        scheduler.add_listener(self._started, EVENT_SCHEDULER_START)

    def __call__(self, _signum: int, _frame: object) -> None:
        self.requested.set()
        if self.scheduler.running:
            self._shutdown_soon()

    def _started(self, _event: object) -> None:
        if self.requested.is_set():
            self._shutdown_soon()

    def _shutdown_soon(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._shutdown, name="scheduler-stop",
                                           daemon=True)
            self.thread.start()

    def _shutdown(self) -> None:
        try:
            self.scheduler.shutdown(wait=True)   # running jobs finish first
        except SchedulerNotRunningError:
            pass

    def join(self) -> None:
        """Wait until the shutdown (and the jobs it waits for) is over."""
        if self.thread is not None:
            self.thread.join()


class HeadTicker:
    """A web process without an embedded scheduler exports the heads every
    JIEFEN_AUDIT_HEADS_INTERVAL_MINUTES from a daemon thread, and once more when it stops."""

    def __init__(self, services: Services):
        self.services = services
        self.exporter = HeadExporter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="audit-heads", daemon=True)

    def start(self) -> HeadTicker:
        self.tick("start")   # before the process serves anything
        self.thread.start()
        return self

    def tick(self, reason: str = "interval") -> None:
        try:
            self.exporter.export(self.services, reason=reason)
        except Exception:  # the next tick tries again
            log.exception("audit heads export of the web process failed")
        ship_heads(self.services)

    def _run(self) -> None:
        while not self.stopping.wait(self.services.settings.audit_heads_interval_minutes * 60):
            self.tick()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=HEADS_STOP_WAIT)
        self.tick("stop")


HEADS_STOP_WAIT = 30.0   # seconds a stopping web process waits for a running export
