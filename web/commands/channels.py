"""``jiefen channel``: shared secrets, callback endpoints and category mappings of push channels."""

from __future__ import annotations

import click

from web.commands.common import cli_services, fail
from web.messages import describe
from workflows.channels import catalogue, mapping
from workflows.channels.signing import issue_secret
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput, NotFound

OPERATOR = Actor(type="system", id="cli", username="cli")


@click.group("channel")
def channel() -> None:
    """Push channels (12345, IoT gateways, the grid app) and their interface settings."""


@channel.command("secret")
@click.argument("code")
def channel_secret(code: str) -> None:
    """Print a new shared secret for the channel CODE (shown once; stored encrypted). The previous
    secret stays valid for JIEFEN_CHANNEL_SECRET_GRACE_HOURS (default 24)."""
    try:
        secret = issue_secret(cli_services().new_uow(), OPERATOR, code)
    except NotFound as exc:
        fail("错误：" + describe(exc))
        return
    click.echo(secret)


@channel.command("endpoint")
@click.argument("code")
@click.argument("url")
def channel_endpoint(code: str, url: str) -> None:
    """Set where callbacks (12345) or feed messages of the interface CODE are sent (https)."""
    try:
        catalogue.set_endpoint(cli_services().new_uow(), OPERATOR, code, url)
    except (NotFound, InvalidInput) as exc:
        fail("错误：" + describe(exc))
        return
    click.echo(f"{code}: {url}")


@channel.command("map")
@click.argument("code")
@click.argument("text")
@click.argument("category")
def channel_map(code: str, text: str, category: str) -> None:
    """Map the channel's 诉求类型 TEXT to CATEGORY (a category code)."""
    try:
        mapping.save_mapping(cli_services().new_uow(), OPERATOR, code, text, category)
    except InvalidInput as exc:
        fail("错误：" + describe(exc))
        return
    click.echo(f"{code}: {text} -> {category}")


COMMANDS = [channel]
