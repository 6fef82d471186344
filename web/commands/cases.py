"""Case commands for operators and scripts: ``jiefen demo``, ``jiefen case list|show``."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from web.commands.common import cli_services, cli_settings, fail
from workflows.cases.lookup import CaseFilter, case_overview, find_case, list_cases
from workflows.core.actors import Actor
from workflows.core.errors import NotFound
from workflows.demo.loader import DemoNotEmpty, load_demo

OPERATOR = Actor(type="system", id="cli", username="cli")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="do nothing when cases exist (used by make run)")
@click.option("--history", default=1500, show_default=True, type=click.IntRange(0, 100_000),
              help="closed cases of the past year added in bulk (the cockpit's trends)")
def demo(if_empty: bool, history: int) -> None:
    """Load the district 临江区 (places, units and users from workflows/demo/data/, passwords
    printed once), bpmn/, sample cases C01-C06 and a year of closed cases in bulk."""
    try:
        report = load_demo(cli_services(), if_empty=if_empty, history=history)
    except DemoNotEmpty:
        fail("数据库中已有案件，演示数据只装入空数据库，未写入任何数据 / "
             "demo data not loaded: cases exist already")
        return
    if report.skipped:
        click.echo("demo data not loaded: cases exist already")
        return
    click.echo("用户 / users (username  password  roles  unit  name):")
    for user in report.users:
        click.echo(f"  {user.username:<16} {user.password:<16} {user.role:<28} "
                   f"{user.department or '-':<18} {user.display_name}")
    click.echo("案件 / cases:")
    for line in report.cases:
        click.echo(f"  {line}")
    click.echo("预警 / warnings (rule  cases  state):")
    for line in report.warnings:
        click.echo(f"  {line}")
    if report.history:
        click.echo(f"历史案件 / history: {report.history:,} closed cases of the past year")


@click.group("case")
def case() -> None:
    """Cases (read-only, as the operator)."""


@case.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--status", default=None)
@click.option("--open", "open_only", is_flag=True, help="only cases not closed")
def case_list(as_json: bool, status: str | None, open_only: bool) -> None:
    """Every case: code, status, tier, risk, lead department, next deadline."""
    services = cli_services()
    rows = list_cases(services.new_uow(), OPERATOR, CaseFilter(status=status,
                                                               open_only=open_only),
                      limit=10_000)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        lead = (row["lead_department"] or {}).get("name", "-")
        click.echo(f"{row['case_no']}  {row['status_label']:<6} {row['tier'] or '-':<9} "
                   f"{row['risk_level']:<7} {row['category'] or '-':<20} {lead}  "
                   f"{_local(row['deadline'])}")


@case.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def case_show(code: str, as_json: bool) -> None:
    """One case: status, tier, lead and co-departments, open tasks, deadlines."""
    services = cli_services()
    uow = services.new_uow()
    with uow:
        try:
            summary = case_overview(uow, find_case(uow.session, code))
        except NotFound:
            fail(f"no case {code}")
            return
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    _print_case(summary)


def _print_case(s: dict) -> None:
    lead = (s["lead_department"] or {}).get("name", "-")
    co = "、".join(d["name"] for d in s["co_departments"]) or "-"
    flags = "（二次投诉）" if s["second_complaint"] else ""
    click.echo(f"{s['case_no']}  {s['status_label']}{flags}")
    click.echo(f"  类型 category: {s['category']}  紧急程度 urgency: {s['urgency']}  "
               f"层级 tier: {s['tier'] or '-'}  风险 risk: {s['risk_level']}")
    click.echo(f"  牵头 lead: {lead}")
    click.echo(f"  协办 co: {co}")
    click.echo(f"  当前环节 stage: {s['stage'] or '-'}")
    click.echo(f"  受理 opened: {_local(s['opened_at'])}  结案 closed: {_local(s['closed_at']) or '-'}")
    click.echo("  待办 open tasks:")
    for t in s["open_tasks"]:
        dept = (t["department"] or {}).get("name", "-")
        click.echo(f"    {t['name']}  [{t['role'] or '-'} / {dept}]  "
                   f"期限 due: {_local(t['due_at']) or '-'}")
    if not s["open_tasks"]:
        click.echo("    (none)")


def _local(iso: str | None) -> str:
    """ISO UTC -> 'YYYY-MM-DD HH:MM' in the configured time zone (Asia/Shanghai)."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(cli_settings().timezone))
    return moment.strftime("%Y-%m-%d %H:%M")


COMMANDS = [demo, case]
