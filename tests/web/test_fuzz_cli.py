"""Fuzzing the command line: hostile values (tests/fixtures/fuzz/corpus.json) in every parameter
of every command that takes one, run in-process with Click's CliRunner against a real database
(SQLite, or PostgreSQL with DATABASE_URL): no command may end in an exception or print a
traceback; a refusal is an ordinary error (exit 1 or 2).

Each command runs with valid arguments (``BASELINE``) except one parameter, which gets the
hostile value: NUL, a 32-bit overflow and a seeded sample of the rest (JIEFEN_FUZZ_ALL=1: all).
Servers, the scheduler loop and the benchmark are replaced by stubs (what matters is that their
options are refused or accepted cleanly); path parameters never get values that leave the
temporary folder.
"""

from __future__ import annotations

import copy
import random
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.fuzz_corpus import ALWAYS, SEED, Hostile, corpus, sample
from tests.web.conftest import HERE
from tests.web.test_access_matrix import OWN, _actor, _register
from web.cli import cli
from workflows.access import tokens
from workflows.core.actors import SYSTEM
from workflows.people import admin
from workflows.people.departments import seed_reference_data
from workflows.processes.deploy import deploy_bundle

BPMN = str(HERE / "fixtures" / "general_dispute.bpmn")
PASSWORD = "a-strong-pass-9\n"


def _baseline(case_no: str, export: str, prefix: str) -> dict[tuple[str, ...], dict[str, str]]:
    """Valid values of the parameters each command needs (by parameter name)."""
    return {
        ("case", "show"): {"code": case_no},
        ("replay",): {"case_no": case_no},
        ("audit", "export"): {"case_no": case_no, "output": "export.json"},
        ("audit", "verify-export"): {"file": export},
        ("migrate",): {"case_no": case_no, "to_version": "1", "dry_run": True},
        ("process", "diff"): {"process_id": "general_dispute", "v1": "1", "v2": "1"},
        ("user", "create"): {"username": "fuzz_new", "roles": "mediator"},
        ("user", "disable"): {"username": "fuzz_user"},
        ("user", "reset-factor"): {"username": "fuzz_user"},
        ("token", "create"): {"username": "fuzz_user"},
        ("token", "revoke"): {"token_or_prefix": prefix},
        ("calendar", "add"): {"day": "2025-05-06", "kind": "holiday", "reason": "调休"},
        ("scheduler",): {"once": True},
        ("report",): {"kind": "weekly"},
        ("deploy",): {"paths": BPMN},
        ("keys", "rotate"): {"purpose": "audit_hmac"},
    }


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _argv(path: tuple[str, ...], command: click.Command, values: dict) -> list[str]:
    """The command line for ``values`` (parameter name -> text, or True for a flag)."""
    options, positional = [], []
    for param in command.params:
        value = values.get(param.name)
        if value is None:
            continue
        if isinstance(param, click.Argument):
            positional.append(value)
        elif value is True:
            options.append(param.opts[0])
        else:
            options += [param.opts[0], value]
    if not path:
        return options
    return [*path, *options, "--", *positional] if positional else [*path, *options]


def _fits(param: click.Parameter, hostile: Hostile) -> bool:
    """Path parameters get nothing that could name a place outside the working folder."""
    if isinstance(param.type, click.Path):
        return not any(mark in hostile.text for mark in ("/", "\\", "~")) and not hostile.costly
    return not hostile.costly


@pytest.fixture
def cli_world(committed_services, settings, tmp_path, monkeypatch):
    """A database with a deployed process, a case, a user and a token; commands get copies of
    the committed services; servers, the scheduler loop and the benchmark are stubs."""
    services = committed_services
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    deploy_bundle(services.new_uow(), SYSTEM, {"general_dispute.bpmn": Path(BPMN).read_bytes()})
    admin.create_user(services.new_uow(), SYSTEM, username="fuzz_user", password="test-password-1",
                      roles=["intake_clerk"], department_code="ZZ")
    case_no = _register(services, _actor(services, "fuzz_user"), OWN, "property")
    prefix = tokens.issue_token(services.new_uow(), SYSTEM, username="fuzz_user").prefix
    keys = tmp_path / "keys.json"
    shutil.copy(settings.keys_path, keys)
    keys.chmod(0o600)
    env = {"JIEFEN_INSTANCE_PATH": str(tmp_path / "instance"), "JIEFEN_KEYS_FILE": str(keys),
           "DATABASE_URL": services.settings.database, "JIEFEN_SECRET_KEY": "fuzz"}

    def services_copy(*_args, **_kwargs):
        return copy.copy(services)

    import flask.cli
    import waitress
    import werkzeug.serving

    from benchmarks import engine_cycle
    from web.commands import common
    from workflows.runtime import bootstrap
    from workflows.scheduler import jobs

    monkeypatch.setattr(common, "bootstrap", services_copy)
    monkeypatch.setattr(bootstrap, "bootstrap", services_copy)
    monkeypatch.setattr(waitress, "serve", lambda *a, **k: None)
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **k: None)
    monkeypatch.setattr(flask.cli, "run_simple", lambda *a, **k: None)
    monkeypatch.setattr(engine_cycle, "run", lambda *a, **k: None)
    monkeypatch.setattr(jobs, "build_scheduler", lambda *a, **k: pytest.fail("no loop"))
    runner = CliRunner()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # files the commands write stay here
    exported = runner.invoke(cli, ["audit", "export", case_no, "-o", "case.json"], env=env)
    assert exported.exit_code == 0, exported.output
    return {"runner": runner, "env": env,
            "baseline": _baseline(case_no, str(work / "case.json"), prefix)}


def test_no_command_fails_with_a_traceback_on_hostile_values(cli_world):
    rng = random.Random(SEED)
    runner, env = cli_world["runner"], cli_world["env"]
    failures, sent = [], 0
    for path, command in [((), cli), *_commands(cli)]:
        baseline = cli_world["baseline"].get(path, {})
        for param in command.params:
            if getattr(param, "is_flag", False) or param.name in ("help", "version"):
                continue
            for hostile in sample(corpus(), rng, 2):
                if not _fits(param, hostile):
                    continue
                argv = _argv(path, command, {**baseline, param.name: hostile.text}) \
                    + (["routes"] if not path else [])  # the root's options, then a command
                result = runner.invoke(cli, argv, env=env, input=PASSWORD)
                sent += 1
                crashed = result.exception is not None and not isinstance(
                    result.exception, SystemExit)
                if crashed or "Traceback" in result.output or result.exit_code not in (0, 1, 2):
                    failures.append((" ".join(path), param.name, hostile.name, result.exit_code,
                                     repr(result.exception)[:200]))
    assert len(ALWAYS) and sent > 100
    assert failures == [], f"{len(failures)} of {sent} invocations failed: {failures}"
