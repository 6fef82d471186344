"""gunicorn settings for production serving (docs/operations.md):

    gunicorn -c python:web.gunicorn_conf 'web:create_app()'

Workers share nothing but the database. Each exports the audit heads when it starts, every
JIEFEN_AUDIT_HEADS_INTERVAL_MINUTES and when it stops, as `jiefen serve` does. The usual gunicorn
options (``--workers``, ``--bind``) override these defaults on the command line.

The app is created once, in the master (``preload_app``), whose heap is then frozen before the
workers fork (web/serving.py): no worker's garbage collector walks those objects, and the
workers keep sharing their memory pages instead of copying them. A worker that replaces one
(``max_requests``) forks from the same master and starts as warm.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from web.serving import settle
from workflows.core import schema
from workflows.core.settings import Settings
from workflows.scheduler.jobs import HeadTicker

bind = os.environ.get("JIEFEN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("JIEFEN_WEB_WORKERS", "4"))
timeout = 60
graceful_timeout = 30
max_requests = 5000          # recycle a worker now and then (memory fragmentation)
max_requests_jitter = 500
preload_app = True


def when_ready(server: Any) -> None:
    """The master, before it forks the workers: refuse a database this release has not
    upgraded (or a newer release has); freeze the preloaded app's heap."""
    lag = schema.pending(Settings.from_env().database)
    if lag is not None:
        server.log.error("jiefen: the database schema is %s, this release needs %s: run "
                         "`jiefen db upgrade` first", lag[0] or "empty", lag[1])
        sys.exit(2)
    if server.cfg.preload_app:
        server.log.info("jiefen: %d objects frozen before forking", settle(server.app.wsgi()))


def post_worker_init(worker: Any) -> None:
    """The worker has the app: its own database connections, its audit-heads export."""
    services = worker.wsgi.extensions["jiefen_services"]
    if worker.cfg.preload_app:
        services.db.dispose(close=False)   # a connection the master opened stays the master's
    else:
        worker.log.info("jiefen: %d objects frozen", settle(worker.wsgi))
    worker.jiefen_ticker = HeadTicker(services).start()


def worker_exit(_server: Any, worker: Any) -> None:
    """A worker stops (SIGTERM, max_requests, a reload): export its heads once more."""
    ticker = getattr(worker, "jiefen_ticker", None)
    if ticker is not None:
        ticker.stop()
