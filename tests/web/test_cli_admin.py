"""`jiefen user|department|token|serve` as an operator runs them (in process; `serve` for real)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from sqlalchemy import select

from tests.cli_support import JIEFEN, jiefen
from tests.conftest import CHEAP_HASHING_ENV
from tests.second_factor_support import enrol_known
from workflows.access import sign_in as auth
from workflows.access import tokens
from workflows.models import ApiToken, User
from workflows.people.departments import seed_reference_data


@pytest.fixture
def env(tmp_path, committed_services, settings):
    with committed_services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    return {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"),
            "JIEFEN_KEYS_FILE": str(settings.keys_path), "JIEFEN_SECRET_KEY": "cli-test",
            "DATABASE_URL": committed_services.settings.database}



def test_user_create_reads_the_password_from_stdin_and_can_sign_in(env, committed_services):
    result = jiefen(env, "user", "create", "li_handler", "--role", "dept_handler",
                 "--department", "ZJ", stdin="a-strong-pass-9\n")
    assert result.exit_code == 0, result.stderr
    assert "created user li_handler" in result.stdout
    assert "a-strong-pass-9" not in result.stdout + result.stderr
    login = auth.login(committed_services.new_uow(), username="li_handler",
                       password="a-strong-pass-9", ip=None)
    assert login.user.roles == {"dept_handler"} and login.user.department_code == "ZJ"


def test_user_create_refuses_bad_input(env):
    unknown_dept = jiefen(env, "user", "create", "x", "--role", "mediator", "--department", "NOPE",
                       stdin="a-strong-pass-9\n")
    assert unknown_dept.exit_code == 1  # the words of web/messages.py, Chinese by default
    assert "department：没有编码为 NOPE 的部门" in unknown_dept.stderr
    weak = jiefen(env, "user", "create", "y", "--role", "mediator", stdin="short\n")
    assert weak.exit_code == 1 and "密码" in weak.stderr
    bad_role = jiefen(env, "user", "create", "z", "--role", "wizard", stdin="a-strong-pass-9\n")
    assert bad_role.exit_code == 2


def test_user_disable_ends_sessions(env, committed_services):
    jiefen(env, "user", "create", "wang", "--role", "mediator", stdin="a-strong-pass-9\n")
    session = auth.login(committed_services.new_uow(), username="wang",
                         password="a-strong-pass-9", ip=None)
    result = jiefen(env, "user", "disable", "wang")
    assert result.exit_code == 0 and "1 session(s) ended" in result.stdout
    assert auth.resume(committed_services, session.session_id) is None
    with committed_services.new_uow() as uow:
        assert not uow.session.scalars(select(User).where(User.username == "wang")).one().active
    assert jiefen(env, "user", "disable", "nobody").exit_code == 1


def test_user_reset_factor_lets_a_locked_out_administrator_enrol_again(env, committed_services):
    jiefen(env, "user", "create", "root", "--role", "admin", stdin="a-strong-pass-9\n")
    enrol_known(committed_services, "root")
    assert auth.login(committed_services.new_uow(), username="root", password="a-strong-pass-9",
                      ip=None).user.stage == "factor"
    result = jiefen(env, "user", "reset-factor", "root")
    assert result.exit_code == 0 and "second factor of root removed" in result.stdout
    assert auth.login(committed_services.new_uow(), username="root", password="a-strong-pass-9",
                      ip=None).user.stage == "enrol"
    assert jiefen(env, "user", "reset-factor", "nobody").exit_code == 1


def test_department_list_prints_code_and_name_per_line(env):
    result = jiefen(env, "department", "list")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and "ZJ\t区住建局" in "\n".join(lines)
    assert all(len(line.split("\t")) == 2 for line in lines)
    assert [line.split("\t")[0] for line in lines] == sorted(line.split("\t")[0] for line in lines)


def test_token_create_prints_a_working_token_and_revoke_ends_it(env, committed_services):
    jiefen(env, "user", "create", "portal_bot", "--role", "intake_clerk", stdin="a-strong-pass-9\n")
    created = jiefen(env, "token", "create", "--user", "portal_bot", "--channel", "portal")
    token = created.stdout.strip()
    assert created.exit_code == 0 and token.startswith("jf_")
    actor, _id = tokens.verify_token(committed_services, token)
    assert actor.username == "portal_bot" and actor.channel == "portal"
    revoked = jiefen(env, "token", "revoke", token.split("_")[1])
    assert revoked.exit_code == 0
    assert tokens.verify_token(committed_services, token) is None
    assert jiefen(env, "token", "create", "--user", "ghost").exit_code == 1


def test_token_lifetime_is_1_to_366_days_default_90(env, committed_services, clock):
    jiefen(env, "user", "create", "portal_bot", "--role", "intake_clerk", stdin="a-strong-pass-9\n")
    for days in ("0", "-1", "99999999", "abc"):
        refused = jiefen(env, "token", "create", "--user", "portal_bot", "--days", days)
        assert refused.exit_code == 1, (days, refused)
        assert "有效期应为 1 至 366 天之间的整数" in refused.stderr, days
    assert jiefen(env, "token", "create", "--user", "portal_bot", "--days", "366").exit_code == 0
    assert jiefen(env, "token", "create", "--user", "portal_bot").exit_code == 0
    with committed_services.new_uow() as uow:
        rows = uow.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        assert [(r.expires_at - r.created_at).days for r in rows] == [366, 90]


def test_serve_offers_waitress_and_a_dev_flag(env):
    result = jiefen(env, "serve", "--help")
    assert result.exit_code == 0
    assert "--dev" in result.stdout and "--host" in result.stdout and "--port" in result.stdout


def test_serve_runs_waitress_and_answers_healthz(env, tmp_path):
    """...and, stopped by SIGTERM, exports the audit heads (at start and at the stop)."""
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **CHEAP_HASHING_ENV, **env}  # the console script in its own process
    server = subprocess.Popen([JIEFEN, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200 and b'"database":"ok"' in r.read()
                    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        refused = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/cases/JF-2025-000001",
                                         headers={"Authorization": "Bearer jf_deadbeef_" + "x" * 43})
        with pytest.raises(urllib.error.HTTPError):   # 401, audited: the system chain moves
            urllib.request.urlopen(refused, timeout=10)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "waitress" in output
    assert "objects frozen)" in output   # the heap frozen before serving (web/serving.py)
    assert server.returncode == 0, output
    records = [json.loads(line) for line in (tmp_path / "inst" / "audit" / "heads.jsonl")
               .read_text(encoding="utf-8").splitlines()]
    assert records[0]["reason"] == "start" and records[-1]["reason"] == "stop"
    assert "system" in records[-1]["heads"]


def test_dev_scheduler_follows_the_scheduler_embedded_setting(monkeypatch):
    from types import SimpleNamespace

    from web.commands.admin import start_dev_scheduler
    from workflows.core.settings import Settings

    started, tickers = [], []

    class Ticker:  # the dev server without its scheduler exports the audit heads itself
        def __init__(self, services):
            tickers.append(services)

        def start(self):
            return self

        def stop(self):
            pass

    monkeypatch.setattr("workflows.scheduler.jobs.start_embedded_scheduler", started.append)
    monkeypatch.setattr("workflows.scheduler.jobs.HeadTicker", Ticker)
    for environ in ({}, {"JIEFEN_SCHEDULER_EMBEDDED": "false"}):
        services = SimpleNamespace(settings=Settings.from_env(environ))
        start_dev_scheduler(SimpleNamespace(extensions={"jiefen_services": services}))
    assert len(started) == 1  # on by default, off with JIEFEN_SCHEDULER_EMBEDDED=false
    assert len(tickers) == 1  # then the heads are exported by the dev server


def test_serve_and_the_scheduler_refuse_a_database_not_yet_upgraded(env, tmp_path):
    """After installing a new release, serving the old schema would fail request by request on
    a missing column: both commands say what to run instead, and start once it has run."""
    from alembic.script import ScriptDirectory

    from workflows.core import schema

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    (head,) = ScriptDirectory.from_config(schema.alembic_config()).get_heads()
    previous = ScriptDirectory.from_config(schema.alembic_config()).get_revision(head).down_revision
    schema.upgrade(url, revision=str(previous))
    old = {**env, "DATABASE_URL": url}

    for args in (("serve", "--port", "1"), ("scheduler", "--once")):
        refused = jiefen(old, *args)
        assert refused.exit_code == 2, refused.stdout
        assert f"数据库结构版本为 {previous}" in refused.stderr
        assert "请先运行 jiefen db upgrade" in refused.stderr

    assert jiefen(old, "db", "upgrade").exit_code == 0
    assert jiefen(old, "scheduler", "--once").exit_code == 0
