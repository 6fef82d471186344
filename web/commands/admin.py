"""Operator commands without the web UI: users, departments, API tokens, and `jiefen serve`."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace

import click

from web.commands.common import cli_services, cli_settings, fail, require_current_schema
from web.messages import describe
from workflows.access import tokens
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput, NotFound
from workflows.models import RoleCode
from workflows.people import admin as admin_service

CLI_ACTOR = Actor(type="system", id="cli", username=os.environ.get("USER", "cli"))
ROLES = [r.value for r in RoleCode]


def _read_password() -> str:
    """The password from stdin: a prompt on a terminal, else the first line of the pipe."""
    if sys.stdin.isatty():
        return click.prompt("密码", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.group("user")
def user() -> None:
    """Accounts (password read from stdin)."""


@user.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="role slug; repeat for several roles")
@click.option("--department", "department", default=None,
              help="department code (see department list)")
@click.option("--name", "display_name", default=None, help="display name (default: USERNAME)")
def user_create(username: str, roles: tuple[str, ...], department: str | None,
                display_name: str | None) -> None:
    """Create USERNAME with ROLE(s) in an optional department; the password comes from stdin."""
    try:
        user_id = admin_service.create_user(
            cli_services().new_uow(), CLI_ACTOR, username=username, password=_read_password(),
            roles=list(roles), department_code=department, display_name=display_name)
    except InvalidInput as exc:
        fail("错误：" + describe(exc))
    click.echo(f"created user {username} (id {user_id}): {', '.join(roles)}")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable USERNAME and end all of its sessions at once."""
    try:
        revoked = admin_service.disable_user(cli_services().new_uow(), CLI_ACTOR, username=username)
    except NotFound as exc:
        fail("错误：" + describe(exc))
    click.echo(f"disabled {username}; {revoked} session(s) ended")


@user.command("reset-factor")
@click.argument("username")
def user_reset_factor(username: str) -> None:
    """Remove USERNAME's second factor (lost phone, or the last administrator locked out); its
    sessions end and it enrols again at the next sign-in."""
    try:
        ended = admin_service.reset_second_factor(cli_services().new_uow(), CLI_ACTOR,
                                                  username=username)
    except NotFound as exc:
        fail("错误：" + describe(exc))
    click.echo(f"second factor of {username} removed; {ended} session(s) ended")


@click.group("department")
def department() -> None:
    """Departments."""


@department.command("list")
def department_list() -> None:
    """Print every active department as `CODE<TAB>NAME`, one per line."""
    for code, name in admin_service.list_departments(cli_services().new_uow()):
        click.echo(f"{code}\t{name}")


@click.group("token")
def token() -> None:
    """API tokens for channel systems and scripts."""


@token.command("create")
@click.option("--user", "username", required=True, help="the account the token acts as")
@click.option("--channel", default="portal",
              type=click.Choice([c.value for c in tokens.API_CHANNELS]),
              help="intake channel recorded on cases created with this token")
@click.option("--name", default="", help="a label for the token")
@click.option("--days", default=str(tokens.DEFAULT_DAYS), show_default=True,
              help=f"lifetime in days, {tokens.MIN_DAYS} to {tokens.MAX_DAYS}")
def token_create(username: str, channel: str, name: str, days: str) -> None:
    """Print a new token for USER (shown once; only its hash is stored)."""
    try:
        number = days.strip().lstrip("+-")
        lifetime = tokens.check_days(int(days) if number.isdecimal() and len(number) < 10 else None)
        issued = tokens.issue_token(cli_services().new_uow(), CLI_ACTOR, username=username,
                                    channel=channel, name=name, days=lifetime)
    except (NotFound, InvalidInput) as exc:
        fail("错误：" + describe(exc))
    click.echo(issued.token)


@token.command("revoke")
@click.argument("token_or_prefix")
def token_revoke(token_or_prefix: str) -> None:
    """Revoke a token given in full or by its 8-character prefix."""
    count = tokens.revoke_token(cli_services().new_uow(), CLI_ACTOR, prefix=token_or_prefix)
    if not count:
        fail("错误：没有找到有效的令牌")
    click.echo(f"revoked {count} token(s)")


def start_dev_scheduler(app) -> None:
    """The embedded scheduler of `serve --dev` (docs/scheduler.md): timers fire in development.

    Called once in the serving process (the reloader child), never under waitress; set
    JIEFEN_SCHEDULER_EMBEDDED=false to run `jiefen scheduler` beside the dev server instead (the
    dev server then exports the audit heads itself, as waitress does).
    """
    import atexit

    from workflows.scheduler.jobs import HeadTicker, start_embedded_scheduler

    services = app.extensions["jiefen_services"]
    if not services.settings.scheduler_embedded:
        atexit.register(HeadTicker(services).start().stop)
        return
    start_embedded_scheduler(services)


@click.command("serve")
@click.option("--dev", is_flag=True,
              help="Flask's development server with reloader (not for production)")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="waitress threads")
def serve(dev: bool, host: str, port: int, threads: int) -> None:
    """Run the web app: waitress by default, Flask's server only with --dev."""
    from web import create_app

    require_current_schema(cli_settings())
    if dev:
        from werkzeug.serving import is_running_from_reloader, run_simple

        # dev_mode: cookies without Secure over plain http (the reloader child runs this too)
        app = create_app(replace(cli_settings(), dev_mode=True))
        if is_running_from_reloader():  # the reloader child serves
            start_dev_scheduler(app)

        # run_simple, not app.run(): Flask ignores app.run() inside its own CLI; no debugger
        run_simple(host, port, app, use_reloader=True, use_debugger=False, threaded=True)
        return
    from waitress import serve as waitress_serve

    from web.serving import settle
    from workflows.scheduler.jobs import HeadTicker

    app = create_app(cli_settings())
    frozen = settle(app)   # the heap frozen now and after the first requests (web/serving.py)
    ticker = HeadTicker(app.extensions["jiefen_services"]).start()
    try:
        signal.signal(signal.SIGTERM, _stop)  # a service manager's stop: export the heads first
        click.echo(f"jiefen on http://{host}:{port} (waitress, {threads} threads; "
                   f"{frozen} objects frozen)")
        waitress_serve(app, host=host, port=port, threads=threads)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        ticker.stop()


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(0)


COMMANDS = [user, department, token, serve]
