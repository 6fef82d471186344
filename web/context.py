"""The only place that reads ``current_app``/``g`` for services, units of work and the actor."""

from __future__ import annotations

from flask import Flask, current_app, g, has_app_context, request
from flask_login import current_user
from sqlalchemy.orm import Session

from engine.db import single_reads
from workflows.core.actors import Actor
from workflows.district.directory_cache import Stamp
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

ANONYMOUS = "anonymous"
DIRECTORY_STAMP = "jiefen_directory_stamp"


def services() -> Services:
    """The app's Services (injected by tests, else bootstrapped at start). A service call
    follows: the request's reads end first, so that no write starts inside them."""
    end_reads()
    return current_app.extensions["jiefen_services"]


def reads() -> Session:
    """This request's read session: what it checks before a service call (the API token, say),
    each read on its own (``single_reads``: no transaction, no write lock); it ends when the
    services are asked for or the request ends."""
    session = g.get("jiefen_reads")
    if session is None:
        session = g.jiefen_reads = single_reads(
            current_app.extensions["jiefen_services"].session_factory())
    return session


def end_reads(_exc: BaseException | None = None) -> None:
    """Close the request's read session, if one is open (it wrote nothing)."""
    session = g.pop("jiefen_reads", None) if has_app_context() else None
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_request(end_reads)


def new_uow() -> UnitOfWork:
    """A fresh unit of work for one service call, with the directory stamp the request's caller
    was read with (it needs no read of its own unless this process wrote the directory since)."""
    uow = services().new_uow()
    uow.directory_stamp = directory_stamp()
    return uow


def directory_stamp() -> Stamp | None:
    """The directory stamp the request's caller was read with (None outside a signed-in call)."""
    return g.get(DIRECTORY_STAMP)


def keep_directory_stamp(stamp: Stamp | None) -> None:
    """The directory stamp the request's caller was read with, for its units of work."""
    g.setdefault(DIRECTORY_STAMP, stamp)


def client_ip() -> str | None:
    """The client address as the WSGI server saw it (a proxy sets it via ProxyFix, not headers)."""
    return request.remote_addr if request else None


def actor() -> Actor:
    """Who is acting in this request: an API token's user, a signed-in user, or anonymous."""
    api_actor = g.get("api_actor")
    if api_actor is not None:
        return api_actor
    if current_user.is_authenticated:
        return current_user.session_user.actor(client_ip())
    return Actor(type=ANONYMOUS, ip=client_ip())
