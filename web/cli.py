"""The ``jiefen`` console script: Flask's CLI group plus jiefen's commands."""

from __future__ import annotations

import importlib

from flask.cli import FlaskGroup

# each module exposes COMMANDS; a new group of commands adds its module here
COMMAND_MODULES = ["web.commands.core", "web.commands.bench", "web.commands.cases", "web.commands.audit_tools", "web.commands.processes", "web.commands.admin", "web.commands.scheduler", "web.commands.district"]


def _create_app():
    from web import create_app

    return create_app()


def build_cli() -> FlaskGroup:
    cli = FlaskGroup(create_app=_create_app, add_default_commands=True,
                     help="jiefen (解纷) — mediation case manager")
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            cli.add_command(command)
    return cli


cli = build_cli()


def main() -> None:
    cli.main(prog_name="jiefen")
