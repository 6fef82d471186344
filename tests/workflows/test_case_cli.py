"""``jiefen case list|show`` and ``jiefen demo --if-empty`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workflows.demo.loader import load_demo

JIEFEN = str(Path(sys.executable).with_name("jiefen"))


@pytest.fixture
def demo_env(tmp_path, committed_services, settings):
    load_demo(committed_services)
    env = {**os.environ, "JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path),
           "DATABASE_URL": committed_services.settings.database}
    return env


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([JIEFEN, *args], env=env, capture_output=True, text=True, check=False)


def test_case_list_show_and_demo_if_empty(demo_env):
    listed = run(demo_env, "case", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 6 and {r["status"] for r in rows} >= {"closed", "dispatched"}
    labour = next(r for r in rows if r["category"] == "labour_collective")
    shown = run(demo_env, "case", "show", labour["case_no"], "--json")
    detail = json.loads(shown.stdout)
    assert detail["lead_department"]["code"] == "RS"
    assert {d["code"] for d in detail["co_departments"]} == {"ZJ", "FY", "JR", "GH", "GA", "SF"}
    assert [t["bpmn_id"] for t in detail["open_tasks"]] == ["sign_off"]
    text = run(demo_env, "case", "show", labour["case_no"]).stdout
    assert "牵头 lead: 区人社局" in text and "签收或退单" in text and "期限 due: 2025-03-03" in text
    assert run(demo_env, "case", "show", "JF-1999-000001").returncode == 1
    again = run(demo_env, "demo", "--if-empty")
    assert again.returncode == 0 and "cases exist already" in again.stdout
