"""gunicorn settings as they were before web/serving.py (benchmarks/serving_memory.py compares):
each worker creates its own app, nothing is frozen, the young generation keeps Python's
threshold. Not for production."""

from __future__ import annotations

from typing import Any

from web.gunicorn_conf import bind, graceful_timeout, timeout, worker_exit, workers
from workflows.scheduler.jobs import HeadTicker

__all__ = ["bind", "graceful_timeout", "timeout", "worker_exit", "workers"]
preload_app = False


def post_worker_init(worker: Any) -> None:
    worker.jiefen_ticker = HeadTicker(worker.wsgi.extensions["jiefen_services"]).start()
