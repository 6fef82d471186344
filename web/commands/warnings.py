"""``jiefen warnings list``: early warnings for operators (the whole deployment)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from web.commands.common import cli_services, cli_settings, fail
from web.messages import describe
from workflows.core.actors import Actor
from workflows.core.errors import NotFound
from workflows.early_warning.listing import list_warnings
from workflows.models import CATEGORY_LABELS, WARNING_STATE_LABELS, WarningState

OPERATOR = Actor(type="system", id="cli", username="cli")


@click.group("warnings")
def warnings() -> None:
    """Early warnings (hotspots), read-only, as the operator."""


@warnings.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--state", type=click.Choice([str(s) for s in WarningState]), default=None)
@click.option("--place", "place_code", default=None,
              help="place code: warnings at this place and below it")
def warnings_list(as_json: bool, state: str | None, place_code: str | None) -> None:
    """Every warning, newest first: kind, place, category, count, cases, raised at, state."""
    try:
        rows = list_warnings(cli_services().new_uow(), OPERATOR, state=state,
                             place_code=place_code)
    except NotFound as exc:
        fail("错误：" + describe(exc))
        return
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    zone = ZoneInfo(cli_settings().timezone)
    for row in rows:
        raised = datetime.fromisoformat(row["raised_at"]).astimezone(zone)
        click.echo(f"{raised:%Y-%m-%d %H:%M}  {WARNING_STATE_LABELS.get(row['state'], row['state'])}  "
                   f"{row['place_code']} {row['place_name']}  "
                   f"{CATEGORY_LABELS.get(row['category'], row['category'])} "
                   f"{row['count']}起  {'、'.join(row['cases'])}")
    if not rows:
        click.echo("（无预警）")


COMMANDS = [warnings]
