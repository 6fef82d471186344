"""The ``jiefen`` console script: Flask's CLI group plus jiefen's commands."""

from __future__ import annotations

import importlib

import click
from flask.cli import FlaskGroup, NoAppException, routes_command, shell_command

from engine.input_rules import BAD_CHARACTERS, has_bad_characters
from web.messages import describe
from workflows.core.errors import InvalidInput

# each module exposes COMMANDS; a new group of commands adds its module here
COMMAND_MODULES = ["web.commands.core", "web.commands.bench", "web.commands.cases", "web.commands.audit_tools", "web.commands.processes", "web.commands.admin", "web.commands.scheduler", "web.commands.warnings", "web.commands.district", "web.commands.channels", "web.commands.devices", "web.commands.assistant", "web.commands.cockpit"]


def _create_app():
    from web import create_app

    try:
        return create_app()
    except RuntimeError as exc:  # no cookie secret yet: a one-line error, not a traceback
        raise NoAppException(str(exc)) from None


class JiefenGroup(FlaskGroup):
    """Flask's group without app-provided commands or plugins: every command is registered here,
    so listing or resolving one never builds the app (``--help`` needs no keys and no database).

    Every argument of every command is checked before any is parsed (the CLI's share of the
    input boundary; numbers and lengths are each option's own type)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for index, arg in enumerate(args):
            # invalid UTF-8 in argv arrives as lone surrogates: refused like control characters
            if has_bad_characters(arg, multiline=True):
                raise click.UsageError(refusal(args, index), ctx)
        return super().parse_args(ctx, args)


def refusal(args: list[str], index: int) -> str:
    """The refusal of one argument, naming its option (or its position) in words."""
    arg = args[index]
    if arg.startswith("--") and "=" in arg:
        name = arg.split("=", 1)[0]
    elif index > 0 and args[index - 1].startswith("-") and "=" not in args[index - 1]:
        name = args[index - 1]
    else:
        name = f"#{index + 1}"
    return describe(InvalidInput({name: BAD_CHARACTERS}))


def build_cli() -> FlaskGroup:
    # Flask's `routes` and `shell`, not its `run`: `jiefen serve` serves (waitress, or --dev)
    cli = JiefenGroup(create_app=_create_app, add_default_commands=False,
                      help="jiefen (解纷) — mediation case manager")
    cli.add_command(routes_command)
    cli.add_command(shell_command)
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            cli.add_command(command)
    return cli


cli = build_cli()


def main() -> None:
    cli.main(prog_name="jiefen")
