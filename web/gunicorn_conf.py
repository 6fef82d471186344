"""gunicorn settings for production serving (docs/operations.md):

    gunicorn -c python:web.gunicorn_conf 'web:create_app()'

Workers share nothing but the database. Each exports the audit heads when it starts, every
JIEFEN_AUDIT_HEADS_INTERVAL_MINUTES and when it stops, as `jiefen serve` does. The usual gunicorn
options (``--workers``, ``--bind``) override these defaults on the command line.
"""

from __future__ import annotations

import os
from typing import Any

from workflows.scheduler.jobs import HeadTicker

bind = os.environ.get("JIEFEN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("JIEFEN_WEB_WORKERS", "4"))
timeout = 60
graceful_timeout = 30
max_requests = 5000          # recycle a worker now and then (memory fragmentation)
max_requests_jitter = 500


def post_worker_init(worker: Any) -> None:
    """The worker has loaded the app: start its audit-heads export."""
    worker.jiefen_ticker = HeadTicker(worker.wsgi.extensions["jiefen_services"]).start()


def worker_exit(_server: Any, worker: Any) -> None:
    """A worker stops (SIGTERM, max_requests, a reload): export its heads once more."""
    ticker = getattr(worker, "jiefen_ticker", None)
    if ticker is not None:
        ticker.stop()
