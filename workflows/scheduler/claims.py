"""Once-per-period jobs when several scheduler processes share one database.

The timer sweep, the SLA sweep and the outbox already split their work with ``FOR UPDATE SKIP
LOCKED``; the daily, hourly and periodic jobs instead each claim their slot (the job name and
the local date or hour it is for) by inserting a ``scheduler_claim`` row: the first process to
insert it runs the job, every other one finds the row and skips. Unlike a lock held while the
job runs, a claim also stops a second scheduler whose clock or start is a minute late.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from workflows.models.scheduling import SchedulerClaim

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

log = logging.getLogger(__name__)
PROCESS = f"{socket.gethostname()}:{os.getpid()}"
KEEP = timedelta(days=90)


def claim(services: Services, job: str, slot: str) -> bool:
    """True if this process now owns (job, slot); False if another one claimed it first."""
    with services.new_uow() as uow:
        dialect = postgresql if uow.session.get_bind().dialect.name == "postgresql" else sqlite
        won = uow.session.execute(
            dialect.insert(SchedulerClaim)
            .values(job=job, slot=slot, claimed_by=PROCESS, claimed_at=uow.clock.now())
            .on_conflict_do_nothing().returning(SchedulerClaim.job)).scalar()
        uow.commit()
    return won is not None


def once_per(granularity: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a job ``fn(services, ...)`` to run once per local ``"day"`` or ``"hour"`` across
    all schedulers (with its other arguments part of the slot, e.g. the report kind)."""
    fmt = {"day": "%Y-%m-%d", "hour": "%Y-%m-%dT%H"}[granularity]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def run(services: Services, *args: Any) -> Any:
            local: datetime = services.clock.now().astimezone(services.calendar.tz)
            slot = local.strftime(fmt)
            job = ":".join([fn.__name__, *(str(a) for a in args)])[:60]
            if not claim(services, job, slot):
                log.info("%s for %s already run by another scheduler", job, slot)
                return None
            return fn(services, *args)
        return run
    return decorate


def forget_old(services: Services) -> int:
    """Claims older than three months (housekeeping)."""
    with services.new_uow() as uow:
        result = uow.session.execute(delete(SchedulerClaim).where(
            SchedulerClaim.claimed_at < uow.clock.now() - KEEP))
        uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
