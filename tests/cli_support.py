"""``jiefen`` commands run in the test's own process through Click's CliRunner: the same command
code an operator runs, without starting an interpreter per command (seconds each). Only the
tests of the process boundary itself (the console script, a real server) start ``jiefen``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from tests.conftest import CHEAP_HASHING_ENV

JIEFEN = str(Path(sys.executable).with_name("jiefen"))  # the console script, for those few tests


def jiefen(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    """``jiefen ARGS`` with ``env`` set on top of the environment; ``exit_code``, ``stdout`` and
    ``stderr`` as the shell sees them. An exception the command does not turn into an exit code
    fails the test (a real run would print a traceback)."""
    from web.cli import cli

    saved = dict(os.environ)  # Flask's CLI group sets variables of its own (FLASK_RUN_FROM_CLI)
    try:
        result = CliRunner().invoke(cli, list(args), input=stdin, prog_name="jiefen",
                                    env={**CHEAP_HASHING_ENV, **env})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result
