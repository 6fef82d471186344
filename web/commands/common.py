"""What every command needs: settings and services built without a Flask app context."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.crypto import KeyFileError
from engine.input_rules import INT32_MAX
from workflows.core import schema
from workflows.core.settings import Settings
from workflows.runtime.bootstrap import Services, bootstrap

# numbers a command passes to a 32-bit column (version numbers, event sequence numbers)
VERSION = click.IntRange(1, INT32_MAX)
YEAR = click.IntRange(2000, 2100)  # the working calendar's years, as on the web page


def cli_settings() -> Settings:
    return Settings.from_env()


def require_current_schema(settings: Settings) -> None:
    """Refuse to serve or sweep a database whose schema is not this release's: every request
    would otherwise fail on a missing column, and a scheduler could write half of a step."""
    lag = schema.pending(settings.database)
    if lag is not None:
        found, heads = lag
        fail(f"错误：数据库结构版本为 {'、'.join(found) or '（空库）'}，本版本需要 "
             f"{'、'.join(heads)}。请先运行 jiefen db upgrade（升级前先备份数据库）。", 2)


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


def write_file(path: Path, content: bytes | str) -> None:
    """Write an output file; a path that cannot be written is a clear error, not a traceback."""
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except (OSError, ValueError) as exc:
        fail(f"错误：无法写入 {str(path)[:200]!r}：{exc.strerror or exc.__class__.__name__}"
             if isinstance(exc, OSError) else f"错误：无法写入 {str(path)[:200]!r}")
