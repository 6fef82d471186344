"""The ``jiefen`` console script: Flask's CLI group plus jiefen's commands."""

from __future__ import annotations

import importlib

import click
from flask.cli import FlaskGroup, NoAppException

# each module exposes COMMANDS; a new group of commands adds its module here
COMMAND_MODULES = ["web.commands.core", "web.commands.bench", "web.commands.cases", "web.commands.audit_tools", "web.commands.processes", "web.commands.admin", "web.commands.scheduler", "web.commands.warnings", "web.commands.district"]


def _create_app():
    from web import create_app

    try:
        return create_app()
    except RuntimeError as exc:  # no cookie secret yet: a one-line error, not a traceback
        raise NoAppException(str(exc)) from None


class JiefenGroup(FlaskGroup):
    """Flask's group without app-provided commands or plugins: every command is registered here,
    so listing or resolving one never builds the app (``--help`` needs no keys and no database)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)


def build_cli() -> FlaskGroup:
    cli = JiefenGroup(create_app=_create_app, add_default_commands=True,
                      help="jiefen (解纷) — mediation case manager")
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            cli.add_command(command)
    return cli


cli = build_cli()


def main() -> None:
    cli.main(prog_name="jiefen")
