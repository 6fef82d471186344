"""The district's directory on the command line: import places, units and users from CSV or XLSX
files, and list places and units (docs/district.md describes the file formats)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from web.commands.admin import CLI_ACTOR
from web.commands.common import cli_services
from web.messages import message
from workflows.mediation.experts import list_experts
from workflows.mediation.rooms import list_rooms
from workflows.people.directory import list_places, list_units
from workflows.people.directory_import import (
    ImportKind,
    ImportPreview,
    ImportRejected,
    ImportResult,
    RowProblem,
    apply_import,
    column_title,
    parse_file,
    preview_import,
)

WHAT = {ImportKind.PLACES: "地点", ImportKind.UNITS: "单位", ImportKind.USERS: "用户",
        ImportKind.ROOMS: "调解室", ImportKind.EXPERTS: "专家"}
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _where(kind: str, problem: RowProblem) -> str:
    row = "文件" if problem.row == 0 else f"第 {problem.row} 行"
    column = f" {column_title(kind, problem.column)}" if problem.column else ""
    return f"{row}{column}：{message(problem.error)}"


def _warnings(kind: str, problems: list[RowProblem]) -> None:
    for problem in problems:
        click.echo(f"  提醒 / warning: {_where(kind, problem)}", err=True)


def run_import(kind: ImportKind, path: Path, dry_run: bool) -> None:
    """Check the whole file, then import it (or only show what would change)."""
    services = cli_services()
    try:
        rows = parse_file(kind, path.name, path.read_bytes())
        if dry_run:
            _print_preview(kind, preview_import(services.new_uow(), kind, rows))
            return
        result = apply_import(services.new_uow(), CLI_ACTOR, kind, rows)
    except ImportRejected as refused:
        click.echo(f"导入失败，未导入任何{WHAT[kind]} / nothing imported "
                   f"({len(refused.problems)} 处错误 problems):", err=True)
        for problem in refused.problems:
            click.echo(f"  {_where(kind, problem)}", err=True)
        raise SystemExit(1) from None
    _print_result(kind, result)


def _print_preview(kind: ImportKind, preview: ImportPreview) -> None:
    click.echo(f"{WHAT[kind]} / {kind} (预览 preview, 共 {preview.rows} 行 rows): "
               f"新增 created {len(preview.created)}，更新 updated {len(preview.updated)}，"
               f"不变 unchanged {len(preview.unchanged)}")
    for key in preview.updated:
        columns = "、".join(column_title(kind, c) for c in preview.changes.get(key, []))
        click.echo(f"  更新 {key}: {columns}")
    _warnings(kind, preview.warnings)
    if not preview.ok:
        click.echo(f"有 {len(preview.errors)} 处错误，不能导入 / errors:", err=True)
        for problem in preview.errors:
            click.echo(f"  {_where(kind, problem)}", err=True)
        raise SystemExit(1)


def _print_result(kind: ImportKind, result: ImportResult) -> None:
    click.echo(f"{WHAT[kind]} / {kind}: 新增 created {len(result.created)}，"
               f"更新 updated {len(result.updated)}，不变 unchanged {result.unchanged}")
    _warnings(kind, result.warnings)
    if result.passwords:
        click.echo("一次性密码（只显示这一次，请转交本人）/ one-time passwords, shown once:")
        click.echo("  username\tpassword\tname\tunit")
        for entry in result.passwords:
            click.echo(f"  {entry.username}\t{entry.password}\t{entry.display_name}\t"
                       f"{entry.unit_code or '-'}")


def _dry_run(function):
    return click.option("--dry-run", is_flag=True,
                        help="check the file and show what would change; import nothing")(function)


@click.group("places")
def places() -> None:
    """Places: district, streets and townships, communities and villages, grids, buildings."""


@places.command("import")
@click.argument("path", metavar="FILE", type=FILE)
@_dry_run
def places_import(path: Path, dry_run: bool) -> None:
    """Import places from a CSV or XLSX file (编码,名称,层级,上级编码,地址); by code, so a
    second import updates. Any bad row: nothing is imported, exit 1."""
    run_import(ImportKind.PLACES, path, dry_run)


@places.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def places_list(as_json: bool) -> None:
    """Every place: code, name, level, parent code and the names along its path."""
    rows = list_places(cli_services().new_uow())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['code']}\t{row['level']}\t{row['parent_code'] or '-'}\t"
                   f"{' / '.join(row['names'])}")


@click.group("units")
def units() -> None:
    """Units: the organisations at places that receive work (kinds are routing codes)."""


@units.command("import")
@click.argument("path", metavar="FILE", type=FILE)
@_dry_run
def units_import(path: Path, dry_run: bool) -> None:
    """Import units from a CSV or XLSX file (编码,名称,类型,所在地编码); by code."""
    run_import(ImportKind.UNITS, path, dry_run)


@units.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def units_list(as_json: bool) -> None:
    """Every unit: code, name, kind, tier, place code and the names of its place's path."""
    rows = list_units(cli_services().new_uow())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['code']}\t{row['kind']}\t{row['name']}\t"
                   f"{' / '.join(row['names']) or '-'}")


@click.group("users")
def users() -> None:
    """Users in bulk (one account at a time: jiefen user create)."""


@users.command("import")
@click.argument("path", metavar="FILE", type=FILE)
@_dry_run
def users_import(path: Path, dry_run: bool) -> None:
    """Import users from a CSV or XLSX file (用户名,姓名,角色,单位编码,手机); roles separated
    by ';'. New users' one-time passwords are printed once."""
    run_import(ImportKind.USERS, path, dry_run)


@click.group("rooms")
def rooms() -> None:
    """Mediation rooms of the units (name, capacity, equipment)."""


@rooms.command("import")
@click.argument("path", metavar="FILE", type=FILE)
@_dry_run
def rooms_import(path: Path, dry_run: bool) -> None:
    """Import mediation rooms from a CSV or XLSX file (编码,名称,单位编码,容纳人数,录音录像,
    视频设备,无障碍; equipment 是/否); by code, so a second import updates."""
    run_import(ImportKind.ROOMS, path, dry_run)


@rooms.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def rooms_list(as_json: bool) -> None:
    """Every room: code, name, unit, capacity and equipment."""
    rows = list_rooms(cli_services().new_uow())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        kit = "、".join(w for k, w in (("recording", "录音录像"), ("video", "视频"),
                                       ("accessible", "无障碍")) if r[k])
        click.echo(f"{r['code']}\t{r['name']}\t{r['unit_code']}\t{r['capacity']}\t{kit or '-'}")


@click.group("experts")
def experts() -> None:
    """The expert pool: lawyers, counsellors, retired cadres … each with an expert account."""


@experts.command("import")
@click.argument("path", metavar="FILE", type=FILE)
@_dry_run
def experts_import(path: Path, dry_run: bool) -> None:
    """Import experts from a CSV or XLSX file (用户名,姓名,专业领域,单位编码,工作单位,
    统一社会信用代码,联系电话,可约日); by username. New experts' one-time passwords are
    printed once."""
    run_import(ImportKind.EXPERTS, path, dry_run)


@experts.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def experts_list(as_json: bool) -> None:
    """Every expert: username, name, field, unit, masked contact and available days."""
    rows = list_experts(cli_services().new_uow())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        days = ",".join(str(d) for d in r["available_days"]) or "1-7"
        click.echo(f"{r['username']}	{r['name']}	{r['field']}	{r['unit_code'] or '-'}	"
                   f"{r['contact_masked'] or '-'}	{days}")


COMMANDS = [places, units, users, rooms, experts]
