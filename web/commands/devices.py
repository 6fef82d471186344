"""IoT devices on the command line: import the registry from CSV or XLSX, list it, and show the
alarm quarantine (docs/grid-and-alarms.md describes the file format)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from web.commands.admin import CLI_ACTOR
from web.commands.common import cli_services
from web.messages import message
from workflows.alarms.devices import column_title, import_devices, list_devices, parse_devices
from workflows.alarms.quarantine import list_quarantine
from workflows.models import ALARM_KIND_LABELS
from workflows.people.directory_files import ImportRejected, RowProblem

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _where(problem: RowProblem) -> str:
    row = "文件" if problem.row == 0 else f"第 {problem.row} 行"
    column = f" {column_title(problem.column)}" if problem.column else ""
    return f"{row}{column}：{message(problem.error)}"


@click.group("devices")
def devices() -> None:
    """IoT devices (smoke, gas, door, water, elevator sensors) and the buildings they are in."""


@devices.command("import")
@click.argument("path", metavar="FILE", type=FILE)
@click.option("--dry-run", is_flag=True, help="check the file and show what would change")
def devices_import(path: Path, dry_run: bool) -> None:
    """Import devices from a CSV or XLSX file (设备编号,类型,楼栋编码 or device_id,kind,
    place_code); by device id, so a second import updates. Any bad row: nothing is imported,
    exit 1."""
    services = cli_services()
    try:
        rows = parse_devices(path.name, path.read_bytes())
        result = import_devices(services.new_uow(), CLI_ACTOR, rows, dry_run=dry_run)
    except ImportRejected as refused:
        click.echo(f"导入失败，未导入任何设备 / nothing imported "
                   f"({len(refused.problems)} 处错误 problems):", err=True)
        for problem in refused.problems:
            click.echo(f"  {_where(problem)}", err=True)
        raise SystemExit(1) from None
    preview = "（预览 preview）" if dry_run else ""
    click.echo(f"设备 / devices{preview}: 新增 created {len(result.created)}，"
               f"更新 updated {len(result.updated)}，不变 unchanged {len(result.unchanged)}")


@devices.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def devices_list(as_json: bool) -> None:
    """Every device: id, kind, building code and the names along its path."""
    rows = list_devices(cli_services().new_uow())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['device_id']}\t{ALARM_KIND_LABELS.get(row['kind'], row['kind'])}\t"
                   f"{row['place_code']}\t{' / '.join(row['names'])}")


@devices.command("quarantine")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def devices_quarantine(as_json: bool) -> None:
    """The newest alarms from unknown or retired devices (kept aside, no case opened)."""
    found = list_quarantine(cli_services().new_uow(), CLI_ACTOR)
    rows = [{"device_id": r.device_id, "kind": r.kind, "state": r.state, "severity": r.severity,
             "occurred_at": r.occurred_at.isoformat(), "received_at": r.received_at.isoformat(),
             "reason": r.reason} for r in found.rows]
    if as_json:
        click.echo(json.dumps({"total": found.total, "alarms": rows}, ensure_ascii=False,
                              indent=2))
        return
    click.echo(f"共 {found.total} 条 / total")
    for row in rows:
        click.echo(f"{row['received_at']}\t{row['device_id']}\t{row['kind']}\t{row['state']}\t"
                   f"{row['reason']}")


COMMANDS = [devices]
