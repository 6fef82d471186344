"""What every command needs: settings and services built without a Flask app context."""

from __future__ import annotations

import sys

import click

from engine.crypto import KeyFileError
from workflows.core.settings import Settings
from workflows.runtime.bootstrap import Services, bootstrap


def cli_settings() -> Settings:
    return Settings.from_env()


def cli_services() -> Services:
    """Services for a command; a missing keys file is a clear error, not a traceback."""
    try:
        return bootstrap(cli_settings())
    except KeyFileError as exc:
        click.echo(f"错误：{exc}（先运行 jiefen keys init）", err=True)
        sys.exit(2)


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)
