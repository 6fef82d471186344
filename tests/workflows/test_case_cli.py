"""``jiefen case list|show`` and ``jiefen demo --if-empty`` as an operator runs them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.cli_support import jiefen
from workflows.demo.loader import load_demo
from workflows.models import User


@pytest.fixture
def demo_env(tmp_path, committed_services, settings):
    load_demo(committed_services)
    env = {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
           "JIEFEN_KEYS_FILE": str(settings.keys_path),
           "DATABASE_URL": committed_services.settings.database}
    return env


def test_case_list_show_and_demo_if_empty(demo_env, committed_services):
    listed = jiefen(demo_env, "case", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    # the six sample cases and the cases the grid worker and the sensors reported
    assert len(rows) >= 6 and {r["status"] for r in rows} >= {"closed", "dispatched"}
    labour = next(r for r in rows if r["category"] == "labour_collective")
    shown = jiefen(demo_env, "case", "show", labour["case_no"], "--json")
    detail = json.loads(shown.stdout)
    assert detail["lead_department"]["code"] == "RS"
    assert {d["code"] for d in detail["co_departments"]} == {"ZJ", "FY", "JR", "GH", "GA", "SF"}
    assert [t["bpmn_id"] for t in detail["open_tasks"]] == ["sign_off"]
    text = jiefen(demo_env, "case", "show", labour["case_no"]).stdout
    assert "牵头 lead: 区人社局" in text and "签收或退单" in text and "期限 due: 2025-03-03" in text
    assert jiefen(demo_env, "case", "show", "JF-1999-000001").exit_code == 1
    again = jiefen(demo_env, "demo", "--if-empty")
    assert again.exit_code == 0 and "cases exist already" in again.stdout

    # without --if-empty: refused in words, nothing written
    before = _password_hashes(committed_services)
    again = jiefen(demo_env, "demo")
    assert again.exit_code == 1 and "Traceback" not in again.stderr
    assert "数据库中已有案件" in again.stderr
    assert _password_hashes(committed_services) == before   # demo passwords not reset


def _password_hashes(services):
    with services.session_factory() as session:
        return dict(session.execute(select(User.username, User.password_hash)).all())
