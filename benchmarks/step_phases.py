"""Where an HTTP task completion's time goes, phase by phase.

The dispute flow of benchmarks/http_flow.py on fresh cases, after the server's warm-up (a case
worked through its first 100 requests): each case is registered, worked to 10 completed tasks,
then 15 completions are timed, alternating with the raw SpiffWorkflow cycle of a case as long.
Timers wrap the request (the WSGI app) and the parts of the step (the token check, the case's
read, the task check, the engine's completion, its state dump and digest, the projection, the
commit with its ORM flush and audit append, the database driver's own time for the statements
and for the commit) and time the garbage collector's pauses, so a change can be measured where it acts
rather than only in the whole request, whose spread on a shared host is wider than most gains.
Prints the medians of the request and of the raw cycle, the request's mean and p90, the floor
(a signed-in API request answering 404, the cost of any request before its work), each phase's
mean per request, the serving thread's CPU time per request (which other processes on a busy
host disturb much less than wall-clock times), the collections by generation with the
collector's CPU time, and what one full collection costs afterwards. SQLite in a temporary
folder, or PostgreSQL from DATABASE_URL. It prints, it never asserts.

    python -m benchmarks.step_phases [cases] [--unsettled]

``--unsettled`` serves the app as created, without web/serving.py's frozen heap and young
generation threshold (the server before them), to compare the garbage collector's share.
"""

from __future__ import annotations

import functools
import gc
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

import engine.instance as instance_module
import workflows.casework.tasks as tasks_module
from benchmarks.engine_cycle import raw_cycle
from benchmarks.http_flow import Flow, Server, _database, _setup
from workflows.access import tokens
from workflows.audit.log import AuditLog
from workflows.runtime.unit_of_work import UnitOfWork

WARM, TIMED = 10, 15    # completed tasks before timing; timed completions per case


class Phases:
    """Seconds spent in each wrapped callable during the timed requests."""

    def __init__(self) -> None:
        self.on = False
        self.current: dict[str, float] = defaultdict(float)
        self.totals: dict[str, float] = defaultdict(float)
        self.requests = 0
        self.gc_started = self.gc_cpu_started = 0.0
        self.collections = [0, 0, 0]           # by generation, during the timed requests
        self.collector_cpu = [0.0, 0.0, 0.0]   # the collecting thread's CPU seconds

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Replace ``owner.name`` by a timed call of it (this process only)."""
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return inner(*args, **kwargs)
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.current[label] += time.perf_counter() - started

        setattr(owner, name, timed)

    def collecting(self, phase: str, info: dict) -> None:
        """gc.callbacks: the garbage collector's pauses during the request."""
        if not self.on:
            return
        if phase == "start":
            self.gc_started, self.gc_cpu_started = time.perf_counter(), time.thread_time()
        else:
            self.current["gc"] += time.perf_counter() - self.gc_started
            self.collections[info["generation"]] += 1
            self.collector_cpu[info["generation"]] += time.thread_time() - self.gc_cpu_started

    def request(self, app: Callable, environ: dict, start_response: Callable) -> list[bytes]:
        self.current.clear()
        self.on = True
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):   # as the server closes it (web/serving.py acts then)
                    body.close()
        finally:
            self.on = False
            self.current["request"] = time.perf_counter() - started
            self.current["request CPU"] = time.thread_time() - cpu   # less hit by other loads
            for label, seconds in self.current.items():
                self.totals[label] += seconds
            self.requests += 1


def _wrap_step(phases: Phases) -> None:
    for name, label in (("load_task_case", "case read"), ("_task_facts", "task check"),
                        ("record_input", "input event"), ("after_step", "projection")):
        phases.wrap(tasks_module, name, label)
    phases.wrap(tokens, "read_token", "token check")
    phases.wrap(Session, "_flush", "ORM flush")
    phases.wrap(tasks_module.task_effects, "after_complete", "task effects")
    phases.wrap(instance_module.WorkflowInstance, "complete", "engine complete")
    phases.wrap(instance_module.WorkflowInstance, "dump", "state dump")
    phases.wrap(instance_module.WorkflowInstance, "_take_snapshot", "digest")
    phases.wrap(UnitOfWork, "commit", "commit")
    phases.wrap(AuditLog, "append_pending", "audit append")


def _time_driver(phases: Phases, engine: Engine) -> None:
    """The database driver's own time: each statement from the cursor's execute to its return
    (SQLite's work, or PostgreSQL's round trip), and the commit."""
    started: list[float] = []

    def before(*_args: Any) -> None:
        started.append(time.perf_counter())

    def after(*_args: Any) -> None:
        if started and phases.on:
            phases.current["driver"] += time.perf_counter() - started.pop()
        started.clear()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    phases.wrap(engine.dialect, "do_commit", "driver commit")


def run(cases: int = 8, echo: Callable[[str], None] = print, *,
        settled: bool = True) -> dict[str, float]:
    """Measure; returns the phases' mean milliseconds per request (and the two medians).
    ``settled=False`` serves the app as created, without web/serving.py's settling."""
    phases = Phases()
    _wrap_step(phases)
    gc.callbacks.append(phases.collecting)
    with _database() as (url, kind, folder):
        settings, services = _setup(url, folder)
        server = Server(settings, settled=settled)
        _time_driver(phases, server.app.extensions["jiefen_services"].db)
        app = server.app.wsgi_app
        timing = {"on": False}

        def measured(environ: dict, start_response: Callable) -> Any:
            if timing["on"] and environ.get("PATH_INFO", "").endswith("/complete"):
                return phases.request(app, environ, start_response)
            return app(environ, start_response)

        server.app.wsgi_app = measured  # type: ignore[method-assign]
        try:
            flow = Flow(services, server)
            flow.warm_up()     # caches, tokens, connections; the heap frozen
            http, raw = [], []
            for _ in range(cases):
                case_no = flow.register()[0]
                raw_step, _ = raw_cycle(WARM)
                for _ in range(WARM):
                    flow.complete(case_no)
                for _ in range(TIMED):
                    started = time.perf_counter()
                    raw_step()
                    raw.append(time.perf_counter() - started)
                    timing["on"] = True
                    seconds, _ = flow.complete(case_no)
                    timing["on"] = False
                    http.append(seconds)
            # the floor under any step: a signed-in API request that finds nothing (token
            # check, Flask, waitress, the client), timed beside the raw cycle
            token = flow.token("intake_clerk")
            floor = [server.get("/api/v1/cases/JF-1900-000001", token)[1] for _ in range(3 * TIMED)]
            started = time.thread_time()
            gc.collect()       # what a full collection (generation 2) costs the server now
            full_collection = time.thread_time() - started
        finally:
            gc.callbacks.remove(phases.collecting)
            server.close()
            services.db.dispose()
    out = {label: 1000 * seconds / phases.requests for label, seconds in phases.totals.items()}
    out["http median"] = 1000 * statistics.median(http)
    out["raw median"] = 1000 * statistics.median(raw)
    out["http mean"] = 1000 * statistics.fmean(http)
    out["http p90"] = 1000 * sorted(http)[round(0.9 * (len(http) - 1))]
    out["http floor"] = 1000 * statistics.median(floor)
    echo(f"{kind}: HTTP completion median {out['http median']:.2f} ms, raw cycle median "
         f"{out['raw median']:.2f} ms, ratio {out['http median'] / out['raw median']:.2f} "
         f"({cases} cases x {TIMED} completions at {WARM}+ tasks); HTTP mean "
         f"{out['http mean']:.2f} ms, p90 {out['http p90']:.2f} ms")
    echo(f"  floor: a signed-in API request answering 404 (token check, Flask, waitress, the "
         f"client) median {out['http floor']:.2f} ms = {out['http floor'] / out['raw median']:.2f}"
         f" x the raw cycle")
    for label, ms in sorted(out.items(), key=lambda item: -item[1]):
        if not label.startswith(("http ", "raw ")):
            echo(f"  {label:16} {ms:6.2f} ms per request (mean)")
    echo(f"  garbage collections by generation {phases.collections}, the collector's CPU "
         f"{[round(1000 * s, 1) for s in phases.collector_cpu]} ms, "
         f"{'settled' if settled else 'unsettled'} server; a full collection "
         f"{1000 * full_collection:.1f} ms of CPU ({len(gc.get_objects())} objects it walks)")
    return out


if __name__ == "__main__":
    numbers = [arg for arg in sys.argv[1:] if arg.isdecimal()]
    run(int(numbers[0]) if numbers else 8, settled="--unsettled" not in sys.argv)
