"""Process commands: ``jiefen process list|diff|start``, ``jiefen migrate CODE --to-version N``
and ``jiefen merge-results``."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from web.commands.common import VERSION, cli_services, fail
from web.messages import describe
from workflows.casework.steps import cases_with_lost_results, merge_lost_results
from workflows.core.actors import Actor
from workflows.core.errors import DomainError, InvalidInput, NotFound, NotPermitted
from workflows.intake.api import parse_request
from workflows.intake.register import submit_intake
from workflows.models import Channel
from workflows.processes import catalogue as processes
from workflows.processes.case_migration import migrate_case, plan_case

OPERATOR = Actor(type="system", id="cli", username="cli")
CHANGE_LABELS = {"added": "+", "removed": "-", "changed": "~"}


@click.group("process")
def process() -> None:
    """Process versions: catalogue and differences between versions."""


@process.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def process_list(as_json: bool) -> None:
    """Every process with its versions (status, hash, deployer, cases per version) and drafts."""
    services = cli_services()
    entries = processes.catalogue(services.new_uow(), OPERATOR)
    decisions = processes.decision_catalogue(services.new_uow(), OPERATOR)
    if as_json:
        click.echo(json.dumps({"processes": [e.as_dict() for e in entries],
                               "decisions": [d.as_dict() for d in decisions]},
                              ensure_ascii=False, indent=2))
        return
    tz = ZoneInfo(services.settings.timezone)
    for entry in entries:
        live = entry.live
        click.echo(f"{entry.process_id}  {entry.name}  "
                   f"live: {'v' + str(live.version) if live else '-'}")
        for v in entry.versions:
            when = v.deployed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            click.echo(f"  v{v.version:<3} {v.status:<8} {v.sha256[:12]}  {when}  "
                       f"{v.deployed_by or '-':<12} running {v.running:<4} finished {v.finished}"
                       + ("  *live" if v.live else ""))
        for d in entry.drafts:
            click.echo(f"  draft #{d.id} {d.title} ({', '.join(d.files)}) by {d.updated_by}")
    for decision in decisions:
        used = "; ".join(", ".join(v["used_by"]) for v in decision.variants)
        click.echo(f"decision {decision.decision_id}  {decision.name}  ({decision.file}): {used}")


@process.command("diff")
@click.argument("process_id")
@click.argument("v1", type=VERSION)
@click.argument("v2", type=VERSION)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def process_diff(process_id: str, v1: int, v2: int, as_json: bool) -> None:
    """Elements added (+), removed (-) and changed (~) from version V1 to version V2."""
    services = cli_services()
    try:
        diff = processes.diff_versions(services.new_uow(), OPERATOR, process_id, v1, v2)
    except NotFound as exc:
        fail(describe(exc))
    if as_json:
        click.echo(json.dumps(diff.as_dict(), ensure_ascii=False, indent=2))
        return
    for name in diff.files_added:
        click.echo(f"+ file {name}")
    for name in diff.files_removed:
        click.echo(f"- file {name}")
    for kind in ("added", "removed", "changed"):
        for change in getattr(diff, kind):
            what = f"  [{', '.join(change.changes)}]" if change.changes else ""
            click.echo(f"{CHANGE_LABELS[kind]} {change.kind} {change.element_id}"
                       f"{' ' + change.name if change.name else ''} ({change.file}){what}")
    if diff.empty:
        click.echo("no element differs")


@click.command("migrate")
@click.argument("case_no", metavar="CODE")
@click.option("--to-version", "to_version", type=VERSION, required=True, help="target version number")
@click.option("--dry-run", is_flag=True, help="show the plan only")
@click.option("--reason", default=None, help="why (required unless --dry-run)")
@click.option("--force", is_flag=True, help="move even when finished steps changed")
@click.option("--force-reason", default=None, help="second reason, required with --force")
def migrate(case_no: str, to_version: int, dry_run: bool, reason: str | None, force: bool,
            force_reason: str | None) -> None:
    """Move a running case to another version of its process (pending timers keep their due time)."""
    services = cli_services()
    try:
        plan = plan_case(services.new_uow(), OPERATOR, case_no, to_version)
        _print_plan(plan)
        if dry_run:
            return
        if not reason:
            fail("--reason is required to migrate (迁移需要说明理由)", 2)
        outcome = migrate_case(services.new_uow(), OPERATOR, case_no, to_version, reason, force,
                               force_reason=force_reason)
    except InvalidInput as exc:
        fail("refused: " + describe(exc))
    except (NotFound, NotPermitted) as exc:
        fail(describe(exc))
    click.echo(f"migrated {outcome.case_no} v{outcome.from_version} -> v{outcome.to_version}"
               + (" (forced)" if outcome.forced else ""))


@process.command("start")
@click.argument("process_id")
@click.option("--data", "data_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the intake as JSON: the API's body (category, description, parties, ...) "
                   "and optionally channel")
def process_start(process_id: str, data_file: Path) -> None:
    """Register a case on the live version of PROCESS_ID (intake's checks and audit); prints the
    new case code (or the case a duplicate was linked to)."""
    try:
        body = json.loads(data_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"错误：{str(data_file)[:200]} 不是 UTF-8 JSON 文件（{exc.__class__.__name__}）", 2)
    channel = body.pop("channel", Channel.COUNTER) if isinstance(body, dict) else Channel.COUNTER
    if not isinstance(channel, str) or channel not in set(Channel):
        fail("错误：channel：请选择列表中的一项", 2)
    services = cli_services()
    try:
        request = parse_request(body, channel)
        outcome = submit_intake(services.new_uow(), OPERATOR, request, process_id=process_id)
    except DomainError as exc:
        fail("错误：" + describe(exc))
    if outcome.kind == "new":
        click.echo(outcome.case_no)
    else:
        click.echo(f"{outcome.case_no}  ({outcome.kind})")


def _print_plan(plan) -> None:
    status = "safe" if plan.safe else ("impossible" if not plan.plan.possible else "UNSAFE")
    click.echo(f"{plan.case_no}: v{plan.from_version} -> v{plan.to_version}  {status}")
    click.echo(f"  current: {', '.join(plan.current) or '-'}  due: {plan.due_at or '-'}")
    for label, items in (("added", plan.plan.added), ("removed", plan.plan.removed),
                         ("blocking", plan.plan.blocking),
                         ("missing subprocesses", plan.plan.missing_subprocesses)):
        if items:
            click.echo(f"  {label}: {', '.join(items)}")
    for element, reasons in sorted(plan.plan.changed.items()):
        click.echo(f"  changed: {element} ({', '.join(reasons)})")


@click.command("merge-results")
@click.argument("case_nos", metavar="[CODE]...", nargs=-1)
@click.option("--all", "every", is_flag=True, help="every running case that needs it")
@click.option("--dry-run", is_flag=True, help="only list the cases that need it")
def merge_results(case_nos: tuple[str, ...], every: bool, dry_run: bool) -> None:
    """Take in co-order results a running case's joint dispatch lost before the upgrade (the
    case waited with no open task) and move it on; run once with --all after upgrading."""
    services = cli_services()
    if not case_nos and not every:
        fail("name the cases or pass --all (请指定案件编号或使用 --all)", 2)
    try:
        todo = list(case_nos) if case_nos else cases_with_lost_results(services)
        if dry_run:
            for case_no in todo:
                click.echo(case_no)
            click.echo(f"{len(todo)} case(s) need it")
            return
        done = 0
        for case_no in todo:
            merged = merge_lost_results(services, case_no, OPERATOR)
            items = ", ".join(f"{m['activity']}:{m['item']}" for m in merged)
            click.echo(f"{case_no}: {'merged ' + items if merged else 'nothing lost'}")
            done += bool(merged)
    except (NotFound, NotPermitted) as exc:
        fail(describe(exc))
    click.echo(f"{done} case(s) moved on")


COMMANDS = [process, migrate, merge_results]
