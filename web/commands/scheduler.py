"""`jiefen scheduler`, `jiefen calendar`, `jiefen report`: the scheduler process and its tools."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import click

from engine.clock import FrozenClock
from engine.deadlines import covers_year
from web.commands.common import (
    YEAR,
    cli_services,
    cli_settings,
    fail,
    require_current_schema,
    write_file,
)
from web.messages import describe, field_errors
from web.report_labels import download_words
from workflows.core.actors import Actor
from workflows.core.errors import DomainError, InvalidInput
from workflows.deadlines.calendar_admin import (
    active_overrides,
    add_override,
    override_history,
    year_days,
)
from workflows.reports import periodic as reports
from workflows.reports.charts import shown, shown_target
from workflows.scheduler import jobs

CLI_ADMIN = Actor(type="system", id="cli", username="cli", roles=frozenset({"admin"}))


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"无法识别的时间：{text[:64]!r}（ISO 8601，如 2025-03-10T12:00:00+08:00）", 2)
    if moment.tzinfo is None:
        fail("时间须带时区偏移（如 +08:00）", 2)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # the first or last hours of the calendar
        fail(f"时间超出范围：{text[:64]!r}", 2)
        raise


def _services_at(at: str | None, *, future_ok: bool = True):
    services = cli_services()
    if at:
        moment = _instant(at)
        # a future instant fires real legal deadlines, reminders and escalations early
        if moment > datetime.now(UTC) and not (future_ok or services.settings.dev_mode):
            fail("--at 晚于当前时间会提前触发真实的期限、催办和督办；"
                 "仅用于测试或演示数据库，并加上 --not-production", 2)
        services.clock = FrozenClock(moment)  # every service reads this one clock
    return services


@click.command("scheduler")
@click.option("--once", is_flag=True, help="run a single sweep and exit")
@click.option("--at", "at", default=None, help="with --once: sweep as if it were this ISO time")
@click.option("--not-production", is_flag=True,
              help="allow a future --at (test and demo databases only)")
def scheduler(once: bool, at: str | None, not_production: bool) -> None:
    """Run the scheduler: timer sweep, SLA checks, outbox, audit heads, housekeeping, reports."""
    if at and not once:
        fail("--at 只能与 --once 一起使用", 2)
    require_current_schema(cli_settings())
    services = _services_at(at, future_ok=not_production)
    if once:
        result = jobs.run_once(services)
        click.echo(f"{result['now'].isoformat()} fired {result['fired']} timers, "
                   f"{result['failures']} failed; checked {result['sla_cases']} cases; "
                   f"raised {sum(result['warnings'].values())} warnings; "
                   f"sent {result['sent']} messages; rolled up {result['rollups']} cases; "
                   f"audit checkpoint {result['checkpoint']}")
        return
    sched = jobs.build_scheduler(services, blocking=True)
    # service managers stop with SIGTERM, a terminal with SIGINT: both end the loop below, so the
    # closing checkpoint is written before the process exits
    stop = jobs.SignalStop(sched)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    try:
        click.echo("jiefen scheduler started (Ctrl-C to stop)")
        sched.start()
    except Exception:
        if not stop.requested.is_set():
            raise
        # the loop was cut short by the shutdown it was asked for (a job it was handling is gone)
    finally:
        stop.join()
        jobs.stop_scheduler(sched, services)
        click.echo("jiefen scheduler stopped; audit heads exported")


@click.group("calendar")
def calendar() -> None:
    """Working calendar: statutory holidays, make-up working days and admin overrides."""


@calendar.command("list")
@click.option("--year", type=YEAR, default=None, help="one year (default: all overrides)")
@click.option("--all", "history", is_flag=True, help="include superseded overrides")
def calendar_list(year: int | None, history: bool) -> None:
    """List overrides (day, kind, reason, who, when)."""
    services = cli_services()
    with services.session_factory() as session:
        rows = (override_history if history else active_overrides)(session, year)
        for row in rows:
            state = f" superseded {row.superseded_at:%Y-%m-%d}" if row.superseded_at else ""
            click.echo(f"{row.day.isoformat()} {row.kind:8} {row.reason}"
                       f" (by {row.created_by or 'system'} at {row.created_at:%Y-%m-%d}){state}")
    if not rows:
        click.echo("(no overrides)")


@calendar.command("add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--kind", type=click.Choice(["workday", "holiday"]), required=True)
@click.option("--reason", required=True, help="why (audited)")
def calendar_add(day: datetime, kind: str, reason: str) -> None:
    """Make DAY a working day or a day off (replaces an earlier override of that day)."""
    services = cli_services()
    try:
        add_override(services.new_uow(), CLI_ADMIN, day=day.date(), kind=kind, reason=reason)
    except DomainError as exc:
        fail(f"错误：{describe(exc)}")
    click.echo(f"{day.date().isoformat()} is now a {kind}")


@calendar.command("check")
@click.option("--year", type=YEAR, default=None, help="default: this year and the next")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="show one day")
def calendar_check(year: int | None, day: datetime | None) -> None:
    """Data coverage, holidays and make-up days; exit 1 if a needed year has no holiday data."""
    services = cli_services()
    cal = services.calendar.calendar
    if day is not None:
        d = day.date()
        kind = "working day" if cal.is_working_day(d) else (
            "statutory holiday" if cal.is_statutory_holiday(d) else "weekend")
        click.echo(f"{d.isoformat()} {kind}")
        return
    this_year = services.clock.now().astimezone(cal.tz).year
    years = [year] if year else [this_year, this_year + 1]
    missing = []
    with services.session_factory() as session:
        for y in years:
            known = covers_year(y) or bool(active_overrides(session, y))
            days = year_days(cal, y)
            click.echo(f"{y}: {'holiday data present' if known else 'NO HOLIDAY DATA'}; "
                       f"{len(days['holidays'])} holidays, make-up days "
                       f"{', '.join(d.isoformat() for d in days['makeup_workdays']) or '-'}")
            if not known:
                missing.append(y)
    if missing:
        fail(f"{', '.join(map(str, missing))} 年节假日安排尚未录入（按周一至周五计算）")


@click.command("report")
@click.argument("kind", type=click.Choice(["weekly", "monthly", "quarterly"]))
@click.option("--at", "at", default=None, help="generate the period before this ISO time")
@click.option("--current", is_flag=True, help="the current period up to today instead")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="a range of dates instead (with --to; both included)")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None)
@click.option("--xlsx", "xlsx_path", type=click.Path(path_type=Path), default=None)
def report(kind: str, at: str | None, current: bool, first: datetime | None,
           last: datetime | None, csv_path: Path | None, xlsx_path: Path | None) -> None:
    """Generate and store the weekly review, monthly bulletin or quarterly evaluation."""
    services = _services_at(at)
    if (first is None) != (last is None):
        fail("--from 和 --to 需要同时给出")
    try:
        if first is not None and last is not None:
            stored = reports.generate_range(services, kind, first.date(), last.date(),
                                            actor=CLI_ADMIN)
        elif current:
            stored = reports.generate_current(services, kind, actor=CLI_ADMIN)
        else:
            stored = reports.generate(services, kind, actor=CLI_ADMIN)
    except InvalidInput as exc:
        fail("错误：" + "；".join(f"{name} {text}" for name, text in
                                 field_errors(exc.field_errors).items()))
        return
    click.echo(f"{stored.title}: {len(stored.rows)} rows (report {stored.id})")
    for kpi, item in (stored.summary or {}).get("targets", {}).items():
        met = {True: "met", False: "MISSED", None: "no data"}[item["met"]]
        value = "—" if item["value"] is None else shown(kpi, item["value"])
        click.echo(f"  {kpi} {item['name']}: {value} (target "
                   f"{shown_target(kpi, item['target'])}) {met}")
    for path, content in ((csv_path, reports.to_csv), (xlsx_path, reports.to_xlsx)):
        if path:
            write_file(path, content(stored, download_words))


COMMANDS = [scheduler, calendar, report]
