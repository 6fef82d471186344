"""Scheduler jobs: the self-re-arming sweep fires due timers on time, --once, head export,
housekeeping."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.clock import SystemClock
from engine.models import AuditCheckpoint
from tests.workflows import sched_support as S
from workflows.audit.checkpoints import verify_checkpoint
from workflows.runtime.bootstrap import bootstrap
from workflows.scheduler import jobs


@pytest.fixture
def live(committed_services, keyring):
    """Services on a committed database reading the wall clock (the real scheduler's view)."""
    services = bootstrap(committed_services.settings, clock=SystemClock(), keyring=keyring)
    yield services
    services.db.dispose()


def test_running_scheduler_fires_a_timer_after_its_due_time(live):
    """The real scheduler on the wall clock fires a PT3S timer. How late it fires depends on the
    machine's load, so the figure is measured in benchmarks/timer_lateness.py, and the arming is
    asserted on the frozen clock below."""
    S.deploy(live, "quick_timer.bpmn")
    scheduler = jobs.build_scheduler(live, blocking=False)
    scheduler.start()
    try:
        instance_id, case_id = S.start(live, "quick_timer")   # due in 3 s
        deadline = time.monotonic() + 60  # a timeout for a stuck scheduler, not a measurement
        while not S.events(live, "timer_fired", case_id) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    [fired] = S.events(live, "timer_fired", case_id)
    assert json.loads(fired.payload)["lateness_s"] > 0
    assert S.ready(live, instance_id) == ["escalate_review"]


def test_a_finished_sweep_arms_the_next_run_at_the_due_timer_which_then_fires_on_time(services,
                                                                                     clock):
    """The listener moves the sweep job to the next due time (read on the services clock, run on
    the wall clock); a sweep at that time fires the timer 1 ms after its due time."""
    from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

    S.deploy(services, "quick_timer.bpmn")
    instance_id, case_id = S.start(services, "quick_timer")   # due in 3 s
    due = clock.now() + timedelta(seconds=3)
    scheduler = jobs.build_scheduler(services, blocking=False)
    scheduler.start(paused=True)
    try:
        clock.advance(seconds=2.5)  # within the max sleep (1 s) of the due time
        run_at = jobs.timers_sweep(services)
        assert run_at == due + timedelta(milliseconds=1)
        before = datetime.now(UTC)
        jobs._rearm_sweep(scheduler, services)(JobExecutionEvent(
            EVENT_JOB_EXECUTED, jobs.SWEEP_JOB, "default", before, retval=run_at))
        after = datetime.now(UTC)
        armed = scheduler.get_job(jobs.SWEEP_JOB).next_run_time
    finally:
        scheduler.shutdown(wait=False)
    delay = run_at - clock.now()
    assert before + delay <= armed <= after + delay
    clock.set(run_at)
    jobs.timers_sweep(services)
    [fired] = S.events(services, "timer_fired", case_id)
    assert json.loads(fired.payload)["lateness_s"] == 0.001
    assert S.ready(services, instance_id) == ["escalate_review"]


def test_sweep_is_rearmed_after_a_failing_run(live, monkeypatch):
    calls = []

    def broken(services):
        calls.append(1)
        raise RuntimeError("database gone")

    monkeypatch.setattr(jobs, "timers_sweep", broken)
    scheduler = jobs.build_scheduler(live, blocking=False)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert len(calls) >= 2  # the chain of sweeps survived the exception


def test_next_run_is_the_earliest_due_time_capped_by_the_max_sleep(services, clock):
    S.deploy(services, "simple.bpmn")
    now = clock.now()
    assert jobs.next_run(services, now) == now + timedelta(seconds=1)
    S.start(services)
    soon = now + timedelta(hours=2) - timedelta(milliseconds=300)
    assert jobs.next_run(services, soon) == now + timedelta(hours=2, milliseconds=1)
    late = now + timedelta(hours=3)
    assert jobs.next_run(services, late) == late + jobs.MIN_IDLE_SLEEP
    assert jobs.next_run(services, late, busy=True) == late


def test_run_once_fires_checks_and_delivers(services, clock, tmp_path):
    from workflows.notify.channels import FileChannel

    services.channels["file"] = FileChannel(tmp_path / "m.jsonl")
    S.deploy(services, "sched_probe.bpmn", probe=S.Probe())
    instance_id, case_id = S.start(services, "sched_probe")
    clock.advance(hours=6)
    result = jobs.run_once(services)
    assert (result["fired"], result["failures"]) == (1, 0)
    assert S.ready(services, instance_id) == ["after"]


def test_cli_once_at_sweeps_as_if_it_were_that_time(committed_services, monkeypatch):
    from web.cli import cli

    S.deploy(committed_services, "simple.bpmn")
    instance_id, case_id = S.start(committed_services)     # 2025-03-03 09:00, due 11:00
    settings = committed_services.settings
    monkeypatch.setenv("DATABASE_URL", settings.database)
    monkeypatch.setenv("JIEFEN_DATABASE_URL", settings.database)
    monkeypatch.setenv("JIEFEN_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("JIEFEN_KEYS_FILE", str(settings.keys_path))
    runner = CliRunner()
    early = runner.invoke(cli, ["scheduler", "--once", "--at", "2025-03-03T10:59:00+08:00"])
    assert early.exit_code == 0, early.output
    assert "fired 0 timers" in early.output
    result = runner.invoke(cli, ["scheduler", "--once", "--at", "2025-03-03T11:00:01+08:00"])
    assert result.exit_code == 0, result.output
    assert "fired 1 timers" in result.output
    [fired] = S.events(committed_services, "timer_fired", case_id)
    assert fired.occurred_at == datetime(2025, 3, 3, 3, 0, 1, tzinfo=UTC)
    naive = runner.invoke(cli, ["scheduler", "--once", "--at", "2025-03-03T11:00:01"])
    assert naive.exit_code == 2


def test_audit_heads_are_exported_full_then_as_deltas_with_a_mac(services, clock):
    from workflows.audit.checkpoints import HeadExporter
    from workflows.scheduler import timers

    exporter = HeadExporter()
    S.deploy(services, "simple.bpmn")
    _, case_id = S.start(services)
    first = exporter.export(services)                  # full: every chain
    assert set(first.heads) == {"system"} and verify_checkpoint(services.keyring, first)
    assert exporter.export(services) is None           # nothing moved: no row
    clock.advance(hours=3)
    timers.sweep(services)                     # events on the case's chain only
    delta = exporter.export(services)
    assert set(delta.heads) == {f"case:{case_id}"}
    assert verify_checkpoint(services.keyring, delta)
    delta.heads[f"case:{case_id}"] = [1, "0" * 64]     # a forged head no longer verifies
    assert not verify_checkpoint(services.keyring, delta)
    lines = (services.settings.instance_path / "audit" / "heads.jsonl").read_text().splitlines()
    assert [json.loads(line)["full"] for line in lines[-2:]] == [True, False]
    with services.session_factory() as session:
        assert len(session.scalars(select(AuditCheckpoint)).all()) == 2


def test_housekeeping_warns_from_november_when_next_years_holidays_are_unknown(services, clock):
    clock.set(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    result = jobs.housekeeping_daily(services)
    assert "2027" in result["calendar_warning"]
    clock.set(datetime(2025, 11, 2, 1, 0, tzinfo=UTC))
    assert jobs.housekeeping_daily(services)["calendar_warning"] is None


def test_cli_once_at_in_the_future_needs_not_production(committed_services, monkeypatch):
    """A future --at would fire real deadlines early on a production database."""
    from web.cli import cli

    S.deploy(committed_services, "simple.bpmn")
    instance_id, case_id = S.start(committed_services)
    settings = committed_services.settings
    for name, value in (("DATABASE_URL", settings.database),
                        ("JIEFEN_DATABASE_URL", settings.database),
                        ("JIEFEN_INSTANCE_PATH", str(settings.instance_path)),
                        ("JIEFEN_KEYS_FILE", str(settings.keys_path))):
        monkeypatch.setenv(name, value)
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    runner = CliRunner()
    refused = runner.invoke(cli, ["scheduler", "--once", "--at", future])
    assert refused.exit_code == 2 and "--not-production" in refused.output
    assert S.events(committed_services, "timer_fired", case_id) == []
    allowed = runner.invoke(cli, ["scheduler", "--once", "--at", future, "--not-production"])
    assert allowed.exit_code == 0, allowed.output
    assert "fired 1 timers" in allowed.output


def test_a_run_due_while_its_job_still_runs_is_counted_not_warned(services, caplog):
    """A job still running when it is due again: APScheduler skips that run (one instance per
    job) and would warn at every skip; the console gets one INFO line and the skips are counted."""
    import logging
    import threading

    scheduler = jobs.build_scheduler(services, blocking=False)
    scheduler.remove_all_jobs()
    release = threading.Event()
    scheduler.add_job(release.wait, "interval", id="slow.job", seconds=0.05, args=[60])
    before = jobs.SKIPS.counts.get("slow.job", 0)
    caplog.set_level(logging.INFO)
    scheduler.start()
    try:
        deadline = time.monotonic() + 60   # a stuck scheduler fails, a slow one only waits
        while jobs.SKIPS.counts.get("slow.job", 0) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert jobs.SKIPS.counts["slow.job"] >= before + 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    said = [r.getMessage() for r in caplog.records if "slow.job" in r.getMessage()]
    assert len(said) == 1 and "still running when due again" in said[0]
