"""Once-per-period jobs across several schedulers: the first to claim the slot runs the job."""

from __future__ import annotations

from workflows.scheduler import claims, jobs


def test_the_first_claim_of_a_slot_wins_and_the_next_slot_is_free(services, clock):
    ran: list[str] = []

    @claims.once_per("day")
    def daily(services, kind):
        ran.append(kind)
        return kind

    assert daily(services, "weekly") == "weekly"
    assert daily(services, "weekly") is None        # a second scheduler, the same day
    assert daily(services, "monthly") == "monthly"  # another argument is another job
    clock.advance(days=1)
    assert daily(services, "weekly") == "weekly"
    assert ran == ["weekly", "monthly", "weekly"]


def test_hourly_slots_follow_the_local_hour(services, clock):
    @claims.once_per("hour")
    def hourly(services):
        return "ran"

    assert hourly(services) == "ran" and hourly(services) is None
    clock.advance(hours=1)
    assert hourly(services) == "ran"


def test_the_scheduler_registers_the_periodic_jobs_behind_claims(services):
    scheduler = jobs.build_scheduler(services)
    for job_id in ("housekeeping.daily", "audit.verify_nightly", jobs.WARNINGS_JOB,
                   "reports.weekly"):
        func = scheduler.get_job(job_id).func
        assert func is not getattr(jobs, func.__name__)   # wrapped
        assert func.__wrapped__ is getattr(jobs, func.__name__)


def test_old_claims_are_forgotten_by_housekeeping(services, clock):
    assert claims.claim(services, "probe", "2025-01-01")
    clock.advance(days=91)
    assert claims.claim(services, "probe", "2025-04-02")
    assert claims.forget_old(services) == 1
    assert claims.claim(services, "probe", "2025-01-01")     # forgotten: claimable again
