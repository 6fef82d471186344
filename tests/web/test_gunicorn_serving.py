"""Production serving: gunicorn with two worker processes, forked from a master that created
the app and froze its heap, answers, and each worker exports the audit heads when it starts and
when it stops."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CHEAP_HASHING_ENV
from workflows.people.departments import seed_reference_data

GUNICORN = Path(sys.executable).with_name("gunicorn")
pytestmark = pytest.mark.skipif(not GUNICORN.exists() and not shutil.which("gunicorn"),
                                reason="gunicorn is installed on Linux only")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reasons(heads: Path) -> list[str]:
    if not heads.exists():
        return []
    text = heads.read_text(encoding="utf-8")
    whole = text[:text.rfind("\n") + 1]    # a line being written is not read yet
    return [json.loads(line)["reason"] for line in whole.splitlines() if line.strip()]


def test_two_gunicorn_workers_serve_and_export_their_heads(tmp_path, committed_services, settings):
    with committed_services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    port = _free_port()
    env = {**os.environ, **CHEAP_HASHING_ENV, "JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path), "JIEFEN_SECRET_KEY": "gunicorn-test",
           "DATABASE_URL": committed_services.settings.database}
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "python:web.gunicorn_conf", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "web:create_app()"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answered: set[str] = set()
    try:
        deadline = time.monotonic() + 90
        while len(answered) < 20:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert r.status == 200 and b'"database":"ok"' in r.read()
                    answered.add(str(len(answered)))
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        heads = tmp_path / "inst" / "audit" / "heads.jsonl"
        while _reasons(heads).count("start") < 2:   # both workers booted and exported
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.3)
        refused = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/cases/JF-2025-000001",
                                         headers={"Authorization": "Bearer jf_deadbeef_" + "x" * 43})
        with pytest.raises(urllib.error.HTTPError):   # 401, audited: the system chain moves
            urllib.request.urlopen(refused, timeout=10)
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output
    assert output.count("Booting worker with pid") >= 2
    # one app, created and frozen in the master before the workers forked (web/serving.py)
    assert output.count("objects frozen before forking") == 1
    reasons = _reasons(tmp_path / "inst" / "audit" / "heads.jsonl")
    # each worker exported when it started, and (the chain having moved) when it stopped
    assert reasons.count("start") >= 2 and reasons.count("stop") >= 2
