"""The only place that reads ``current_app``/``g`` for services, units of work and the actor."""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user

from workflows.core.actors import Actor
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

ANONYMOUS = "anonymous"


def services() -> Services:
    """The app's Services (injected by tests, else bootstrapped at start)."""
    return current_app.extensions["jiefen_services"]


def new_uow() -> UnitOfWork:
    """A fresh unit of work for one service call."""
    return services().new_uow()


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
