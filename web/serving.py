"""Garbage collection for a long-running server process (`jiefen serve`, gunicorn workers).

A served app holds a quarter of a million container objects that live as long as the process:
modules, classes, SQLAlchemy's mappers and compiled statements, parsed process specs. Python's
full (generation 2) collection walks all of them, about every hundred requests, a pause of
100 ms and more in the request that triggers it. ``gc.freeze()`` moves every object alive to a
permanent generation that no collection walks again; objects created later are collected as
before. So the server freezes twice: right after the app is created (in gunicorn's master,
before it forks, so the workers also share those pages instead of copying them), and once more
after its first requests, which filled the caches real traffic needs. Frozen objects are never
freed by the collector, so each freeze first collects everything (no garbage is frozen) and
the second empties the instance cache (parsed workflow states, replaced as cases move on) and
waits until no request is in flight.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.wsgi import ClosingIterator

log = logging.getLogger(__name__)

WARM_REQUESTS = 100        # requests after which the caches they fill are frozen too
# Python's default (700 more container objects allocated than freed) is passed in nearly every
# task completion, so the youngest generation was collected in each; ten times that, in about
# one of fifteen (docs/engine.md, "Garbage collection").
YOUNG_THRESHOLD = 7000


def freeze() -> int:
    """Collect everything, then freeze what is left; the number of objects frozen in all."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class FreezeAfterWarmUp:
    """WSGI middleware: freeze once more when a response closes after the first ``requests``
    and no other request is in the app (a threaded server such as waitress: what a request in
    flight holds, a workflow instance taken from the cache, its session, would be frozen with
    the heap and never collected once it is garbage). New requests wait for that freeze; it
    delays no client whose response was sent."""

    def __init__(self, wsgi_app: Callable, on_warm: Callable[[], None],
                 requests: int = WARM_REQUESTS):
        self.wsgi_app, self.on_warm, self.requests = wsgi_app, on_warm, requests
        self._lock = threading.Lock()
        self._served = self._active = 0
        self._warm = False

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if self._warm:
            return self.wsgi_app(environ, start_response)
        with self._lock:   # (held by a freeze: no request enters the app meanwhile)
            self._served += 1
            self._active += 1
        try:
            body = self.wsgi_app(environ, start_response)
        except BaseException:
            self._closed()
            raise
        return ClosingIterator(body, self._closed)

    def _closed(self) -> None:
        with self._lock:
            self._active -= 1
            if self._warm or self._active or self._served < self.requests:
                return
            self._warm = True
            self.on_warm()


def settle(app: Flask, *, requests: int = WARM_REQUESTS) -> int:
    """Freeze the created app's heap now and again after its first ``requests`` requests,
    and collect the youngest generation less often; the number of objects frozen now."""
    services = app.extensions["jiefen_services"]
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])

    def warm() -> None:
        services.instances.clear()   # cached states churn: never freeze them
        log.info("warmed up after %d requests: %d objects frozen", requests, freeze())

    app.wsgi_app = FreezeAfterWarmUp(app.wsgi_app, warm, requests)  # type: ignore[method-assign]
    return freeze()

