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
from workflows.early_warning.evaluate import evaluate
from workflows.early_warning.listing import list_warnings
from workflows.models import (
    CATEGORY_LABELS,
    WARNING_KIND_LABELS,
    WARNING_STATE_LABELS,
    WarningKind,
    WarningState,
)

OPERATOR = Actor(type="system", id="cli", username="cli")


@click.group("warnings")
def warnings() -> None:
    """Early warnings: list them (as the operator) or run the rules now."""


@warnings.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--state", type=click.Choice([str(s) for s in WarningState]), default=None)
@click.option("--rule", type=click.Choice([str(k) for k in WarningKind]), default=None,
              help="only the warnings of this rule")
@click.option("--place", "place_code", default=None,
              help="place code: warnings at this place and below it")
def warnings_list(as_json: bool, state: str | None, rule: str | None,
                  place_code: str | None) -> None:
    """Every warning, newest first: rule, place, category, count, cases, raised at, state and
    who decided it when."""
    try:
        rows = list_warnings(cli_services().new_uow(), OPERATOR, state=state,
                             place_code=place_code, rule=rule)
    except NotFound as exc:
        fail("错误：" + describe(exc))
        return
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    zone = ZoneInfo(cli_settings().timezone)
    for row in rows:
        raised = datetime.fromisoformat(row["raised_at"]).astimezone(zone)
        decided = ""
        if row["decided_at"]:
            when = datetime.fromisoformat(row["decided_at"]).astimezone(zone)
            decided = f"  {row['decided_by'] or '—'} {when:%Y-%m-%d %H:%M}"
        place = f"{row['place_code']} {row['place_name']}" if row["place_code"] else "全区"
        category = CATEGORY_LABELS.get(row["category"] or "", row["category"] or "—")
        click.echo(f"{raised:%Y-%m-%d %H:%M}  {WARNING_KIND_LABELS.get(row['kind'], row['kind'])}  "
                   f"{WARNING_STATE_LABELS.get(row['state'], row['state'])}{decided}  {place}  "
                   f"{category} {row['count']}起  {'、'.join(row['cases'])}")
    if not rows:
        click.echo("（无预警）")


@warnings.command("evaluate")
def warnings_evaluate() -> None:
    """Run the warning rules now (as the scheduler does every hour); prints what was raised."""
    raised = evaluate(cli_services())
    for kind, count in raised.items():
        click.echo(f"{WARNING_KIND_LABELS.get(kind, kind)}：{count}")


COMMANDS = [warnings]
