"""Where an HTTP task completion's time goes, phase by phase.

The dispute flow of benchmarks/http_flow.py on fresh cases: each case is registered, worked to
10 completed tasks, then 15 completions are timed, alternating with the raw SpiffWorkflow cycle
of a case as long. Timers wrap the request (the WSGI app) and the parts of the step (the case's
read, the task check, the engine's completion, its state dump and digest, the projection, the
commit and its audit append), so a change can be measured where it acts rather than only in the
whole request, whose spread on a shared host is wider than most gains. Prints the medians of
the request and of the raw cycle, and each phase's mean per request. SQLite in a temporary
folder, or PostgreSQL from DATABASE_URL. It prints, it never asserts.

    python -m benchmarks.step_phases [cases]
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import engine.instance as instance_module
import workflows.casework.tasks as tasks_module
from benchmarks.engine_cycle import raw_cycle
from benchmarks.http_flow import Flow, Server, _database, _setup
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

    def request(self, app: Callable, environ: dict, start_response: Callable) -> list[bytes]:
        self.current.clear()
        self.on = True
        started = time.perf_counter()
        try:
            return list(app(environ, start_response))
        finally:
            self.on = False
            self.current["request"] = time.perf_counter() - started
            for label, seconds in self.current.items():
                self.totals[label] += seconds
            self.requests += 1


def _wrap_step(phases: Phases) -> None:
    for name, label in (("load_task_case", "case read"), ("_task_facts", "task check"),
                        ("record_input", "input event"), ("after_step", "projection")):
        phases.wrap(tasks_module, name, label)
    phases.wrap(tasks_module.task_effects, "after_complete", "task effects")
    phases.wrap(instance_module.WorkflowInstance, "complete", "engine complete")
    phases.wrap(instance_module.WorkflowInstance, "dump", "state dump")
    phases.wrap(instance_module.WorkflowInstance, "_take_snapshot", "digest")
    phases.wrap(UnitOfWork, "commit", "commit")
    phases.wrap(AuditLog, "append_pending", "audit append")


def run(cases: int = 8, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Measure; returns the phases' mean milliseconds per request (and the two medians)."""
    phases = Phases()
    _wrap_step(phases)
    with _database() as (url, kind, folder):
        settings, services = _setup(url, folder)
        server = Server(settings)
        app = server.app.wsgi_app
        timing = {"on": False}

        def measured(environ: dict, start_response: Callable) -> Any:
            if timing["on"] and environ.get("PATH_INFO", "").endswith("/complete"):
                return phases.request(app, environ, start_response)
            return app(environ, start_response)

        server.app.wsgi_app = measured  # type: ignore[method-assign]
        try:
            flow = Flow(services, server)
            flow.complete(flow.register()[0])     # warm caches, tokens and connections
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
        finally:
            server.close()
            services.db.dispose()
    out = {label: 1000 * seconds / phases.requests for label, seconds in phases.totals.items()}
    out["http median"] = 1000 * statistics.median(http)
    out["raw median"] = 1000 * statistics.median(raw)
    echo(f"{kind}: HTTP completion median {out['http median']:.2f} ms, raw cycle median "
         f"{out['raw median']:.2f} ms, ratio {out['http median'] / out['raw median']:.2f} "
         f"({cases} cases x {TIMED} completions at {WARM}+ tasks)")
    for label, ms in sorted(out.items(), key=lambda item: -item[1]):
        if not label.endswith("median"):
            echo(f"  {label:16} {ms:6.2f} ms per request (mean)")
    return out


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
