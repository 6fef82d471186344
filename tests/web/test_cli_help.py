"""`jiefen --help` and every subcommand's --help work on a fresh checkout: no keys, no cookie
secret, no database, and nothing is written to the instance folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from web.cli import cli

JIEFEN = str(Path(sys.executable).with_name("jiefen"))
UNSET = ("JIEFEN_SECRET_KEY", "JIEFEN_KEYS_FILE", "JIEFEN_DATABASE_URL", "DATABASE_URL")


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _paths(command, (*prefix, name))
    return found


@pytest.fixture
def fresh(tmp_path, monkeypatch) -> Path:
    instance = tmp_path / "instance"
    instance.mkdir()
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JIEFEN_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")  # FlaskGroup sets it; restored after the test
    monkeypatch.chdir(tmp_path)
    return instance


def test_every_subcommand_prints_its_help_without_keys_or_database(fresh):
    paths = _paths(cli)
    assert {("keys", "init"), ("db", "upgrade"), ("serve",), ("scheduler",)} <= set(paths)
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"], prog_name="jiefen")
    assert top.exit_code == 0 and top.stderr == "", top.output
    assert "Usage: jiefen" in top.output and "keys" in top.output
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"], prog_name="jiefen")
        assert result.exit_code == 0 and result.stderr == "", (path, result.output)
        assert f"Usage: jiefen {' '.join(path)}" in result.output, path
    assert list(fresh.iterdir()) == []


def test_the_installed_script_prints_help_before_keys_init(fresh):
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    result = subprocess.run([JIEFEN, "--help"], env=env, cwd=fresh.parent, capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    assert "Usage: jiefen" in result.stdout and "serve" in result.stdout
    assert list(fresh.iterdir()) == []


def test_a_command_that_needs_the_app_says_to_run_keys_init(fresh):
    result = CliRunner().invoke(cli, ["routes"], prog_name="jiefen")
    assert result.exit_code == 2
    assert "jiefen keys init" in result.output and "Traceback" not in result.output
