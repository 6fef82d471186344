"""`jiefen user|department|token|serve` as an operator runs them (in process; `serve` for real)."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import select

from tests.cli_support import JIEFEN, jiefen
from tests.conftest import CHEAP_HASHING_ENV
from workflows.access import sign_in as auth
from workflows.access import tokens
from workflows.models import User
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
    assert auth.resume(committed_services.new_uow(), session.session_id) is None
    with committed_services.new_uow() as uow:
        assert not uow.session.scalars(select(User).where(User.username == "wang")).one().active
    assert jiefen(env, "user", "disable", "nobody").exit_code == 1


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
    actor, _id = tokens.verify_token(committed_services.new_uow(), token)
    assert actor.username == "portal_bot" and actor.channel == "portal"
    revoked = jiefen(env, "token", "revoke", token.split("_")[1])
    assert revoked.exit_code == 0
    assert tokens.verify_token(committed_services.new_uow(), token) is None
    assert jiefen(env, "token", "create", "--user", "ghost").exit_code == 1


def test_serve_offers_waitress_and_a_dev_flag(env):
    result = jiefen(env, "serve", "--help")
    assert result.exit_code == 0
    assert "--dev" in result.stdout and "--host" in result.stdout and "--port" in result.stdout


def test_serve_runs_waitress_and_answers_healthz(env):
    import socket
    import time
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
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "waitress" in output
