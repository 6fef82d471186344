"""Memory of gunicorn's master and two workers after some requests, from /proc (Linux).

An SQLite database in a temporary folder, gunicorn on a free loopback port with the given
settings module (default the production one, web/gunicorn_conf.py;
``python:benchmarks.gunicorn_unsettled`` is the configuration before the app was preloaded and
frozen), ``requests`` times `/healthz` and the sign-in page, then each process's resident,
proportional, shared and private memory (``smaps_rollup``). It prints, it never asserts.

    python -m benchmarks.serving_memory [requests] [--config python:MODULE]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from engine.crypto import Keyring
from workflows.core.schema import upgrade
from workflows.core.settings import Settings
from workflows.people.departments import seed_reference_data
from workflows.runtime.bootstrap import bootstrap


def _database(folder: Path) -> dict[str, str]:
    """A fresh database and keys; the environment that points gunicorn's app at them."""
    Keyring.generate(folder / "keys.json")
    url = f"sqlite:///{folder}/jiefen.sqlite3"
    settings = Settings.from_env(instance_path=folder, database_url=url,
                                 keys_file=folder / "keys.json", secret_key="bench")
    upgrade(settings.database)
    services = bootstrap(settings)
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    services.db.dispose()  # type: ignore[union-attr]  # an Engine here
    return {"DATABASE_URL": url, "JIEFEN_INSTANCE_PATH": str(folder),
            "JIEFEN_KEYS_FILE": str(folder / "keys.json"), "JIEFEN_SECRET_KEY": "bench"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _memory(pid: int) -> dict[str, int]:
    """MiB by kind of one process."""
    kib = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":")
        kib[key.strip()] = int(value.split()[0])
    return {"resident": kib["Rss"] // 1024, "proportional": kib["Pss"] // 1024,
            "shared": (kib["Shared_Clean"] + kib["Shared_Dirty"]) // 1024,
            "private": (kib["Private_Clean"] + kib["Private_Dirty"]) // 1024}


def run(requests: int = 400, config: str = "python:web.gunicorn_conf") -> None:
    with tempfile.TemporaryDirectory() as name:
        env = {**os.environ, **_database(Path(name))}
        port = _free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen([str(gunicorn), "-c", config, "--workers", "2",
                                   "--bind", f"127.0.0.1:{port}", "web:create_app()"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("gunicorn did not answer /healthz") from None
                    time.sleep(0.2)
            for _ in range(requests):
                for path in ("/healthz", "/auth/login"):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read()
            time.sleep(1)
            children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
            print(f"{config}, {requests} x 2 requests (MiB):")
            for role, pid in [("master", server.pid), *(("worker", int(c)) for c in children)]:
                print(f"  {role:7}", "  ".join(f"{k} {v:4}" for k, v in _memory(pid).items()))
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requests", nargs="?", type=int, default=400)
    parser.add_argument("--config", default="python:web.gunicorn_conf")
    arguments = parser.parse_args()
    run(arguments.requests, arguments.config)
