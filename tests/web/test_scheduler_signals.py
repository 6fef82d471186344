"""`jiefen scheduler` stopped by a service manager (SIGTERM) or a terminal (SIGINT) writes its
closing audit checkpoint, full, before it exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import AuditCheckpoint

JIEFEN = str(Path(sys.executable).with_name("jiefen"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_scheduler_exports_the_heads_before_it_exits(committed_services, settings,
                                                               tmp_path, signum):
    instance = tmp_path / "inst"
    env = {**os.environ, "JIEFEN_INSTANCE_PATH": str(instance),
           "JIEFEN_KEYS_FILE": str(settings.keys_path), "JIEFEN_SECRET_KEY": "cli-test",
           "DATABASE_URL": committed_services.settings.database, "PYTHONFAULTHANDLER": "1"}
    process = subprocess.Popen([JIEFEN, "scheduler"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()))
    reader.start()
    reader.join(timeout=120)
    assert first and "started" in first[0], process.stderr.read() if process.poll() else first
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # show where it hangs (faulthandler prints every thread)
        process.send_signal(signal.SIGABRT)
        out, err = process.communicate(timeout=30)
        raise AssertionError(err[-6000:]) from None
    assert process.returncode == 0, err
    assert "audit heads exported" in out, (out, err)
    records = [json.loads(line) for line in
               (instance / "audit" / "heads.jsonl").read_text(encoding="utf-8").splitlines()]
    stop = [r for r in records if r["reason"] == "stop"]
    assert len(stop) == 1 and stop[0]["full"] is True
    with committed_services.new_uow() as uow:
        assert uow.session.get(AuditCheckpoint, stop[0]["id"]) is not None
        assert uow.session.scalars(select(AuditCheckpoint)).all()
