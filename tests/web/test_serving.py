"""A served app's heap is frozen after the start and again after its first requests
(web/serving.py), so that the garbage collector's full collections no longer walk it."""

from __future__ import annotations

import gc
import weakref

import pytest

from web.serving import settle


@pytest.fixture
def thawed():
    """Whatever a test freezes is collected as usual again afterwards, as often as before."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def _alive_and_walked(thing: object) -> bool:
    """gc.get_objects() lists the three collected generations, never the frozen objects."""
    return any(other is thing for other in gc.get_objects())


def test_the_heap_is_frozen_at_the_start_and_after_the_warm_up_requests(app, services, thawed):
    before = gc.get_freeze_count()
    frozen = settle(app, requests=3)
    assert frozen == gc.get_freeze_count() > before
    made_later = {"filled by the first requests": []}
    services.instances.put(1, "{}", object())   # type: ignore[arg-type]
    client = app.test_client()
    for _ in range(2):
        assert client.get("/healthz", buffered=True).status_code == 200
    assert _alive_and_walked(made_later)          # not yet warm: collected as usual
    assert client.get("/healthz", buffered=True).status_code == 200
    # the third response closed: frozen (the freeze count itself may fall meanwhile: frozen
    # objects that their references free, as the emptied instance cache's, leave it)
    assert not _alive_and_walked(made_later)
    assert services.instances.take(1, "{}") is None   # cached states are never frozen
    made_after = {"after the warm-up": []}
    for _ in range(4):
        client.get("/healthz", buffered=True)
    assert _alive_and_walked(made_after)          # once only


class Node:
    """Something a weak reference can watch."""


def test_the_warm_up_freeze_keeps_no_garbage(app, thawed):
    settle(app, requests=1)
    node = Node()
    node.itself = node                     # a cycle: only the collector frees it
    gone = weakref.ref(node)
    gc.disable()                           # no automatic collection in between
    try:
        del node
        assert gone() is not None
        app.test_client().get("/healthz", buffered=True)
    finally:
        gc.enable()
    assert gone() is None                  # collected, not frozen for the process's life


def test_the_warm_up_freeze_waits_for_the_requests_in_flight(thawed):
    """A threaded server (waitress) answers others while the warm-up request's response closes:
    what a request in flight holds (a case's parsed workflow, its session: cycles) would be frozen
    with the heap and, once garbage, never collected. The freeze waits until none is in flight."""
    from web.serving import FreezeAfterWarmUp, freeze

    held: list = []

    def app(environ, start_response):
        start_response("200 OK", [])
        if environ["PATH_INFO"] == "/slow":
            node = Node()
            node.itself = node                  # a cycle only the collector frees
            held.append(weakref.ref(node))
            return _Holding(node)
        return [b"ok"]

    frozen: list = []
    served = FreezeAfterWarmUp(app, lambda: frozen.append(freeze()), requests=2)
    environ = {"REQUEST_METHOD": "GET"}
    slow = served({**environ, "PATH_INFO": "/slow"}, lambda *a: None)   # still being sent
    quick = served({**environ, "PATH_INFO": "/"}, lambda *a: None)
    list(quick)
    quick.close()                                # the warm-up count reached, one in flight
    assert not frozen
    list(slow)
    slow.close()                                 # the last one in flight done: garbage now
    assert len(frozen) == 1
    assert held[0]() is None                     # collected by the freeze, not frozen
    again = served({**environ, "PATH_INFO": "/"}, lambda *a: None)
    getattr(again, "close", lambda: None)()
    assert len(frozen) == 1                      # once only


class _Holding:
    """A response body that holds an object until the server closes it."""

    def __init__(self, thing: object):
        self.thing: object | None = thing

    def __iter__(self):
        yield b"slow"

    def close(self) -> None:
        self.thing = None
