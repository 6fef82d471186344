"""Auditor commands: `jiefen replay CODE`, `jiefen audit export CODE`, `jiefen audit verify-export FILE`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.crypto import KeyFileError, Keyring
from web.commands.common import VERSION, cli_services, cli_settings, fail, write_file
from web.commands.core import audit as audit_group
from workflows.core.actors import Actor
from workflows.core.errors import NotFound
from workflows.replay.case_replay import ReplayReport, replay_case
from workflows.replay.export import EXPORT_PURPOSES, export_case, verify_export

CLI_ACTOR = Actor(type="system", id="cli", username="cli")


def _short(digest: str | None) -> str:
    return (digest or "—")[:12]


def _print_report(report: ReplayReport) -> None:
    click.echo(f"案件 {report.case_no}: {report.events} 条审计事件, {report.inputs} 个输入事件")
    for step in report.steps:
        mark = "ok" if step["ok"] else "DIFF"
        click.echo(f"  seq {step['seq']:>4}  {step['action']:<18} {mark:<4} {_short(step['digest'])}")
    divergence = report.divergence
    if divergence is not None:
        click.echo(f"  expected {divergence.expected or '—'}")
        click.echo(f"  actual   {divergence.actual or '—'}")
        for line in divergence.data_diff[:20]:
            click.echo(f"  data {line['key']}: {json.dumps(line['expected'], ensure_ascii=False)}"
                       f" -> {json.dumps(line['actual'], ensure_ascii=False)}")
        if divergence.transitions:
            click.echo(f"  transitions expected {divergence.transitions['expected']}")
            click.echo(f"  transitions actual   {divergence.transitions['actual']}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")


@click.command("replay")
@click.argument("case_no")
@click.option("--verify", is_flag=True, help="compare every state with the recorded one and "
              "record the result (case_replayed)")
@click.option("--until-seq", type=VERSION, default=None, help="stop after this event")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def replay(case_no: str, verify: bool, until_seq: int | None, as_json: bool) -> None:
    """Re-run case CASE_NO from its recorded inputs; exit 1 at the first divergence."""
    services = cli_services()
    try:
        report = replay_case(services, case_no, verify=verify, until_seq=until_seq, actor=CLI_ACTOR,
                             record=verify and until_seq is None)
    except NotFound:
        fail(f"no case {case_no}")
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(report)
        click.echo(report.summary() if verify or not report.ok else
                   f"replayed: {report.inputs} inputs re-applied (not compared; use --verify)")
    if report.result in ("diverged", "broken_chain") or (verify and not report.ok):
        sys.exit(1)


@audit_group.command("export")
@click.argument("case_no")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="JSON file to write; the HTML report goes next to it (.html)")
@click.option("--purpose", type=click.Choice(sorted(EXPORT_PURPOSES)), default="external_review",
              show_default=True, help="why the file leaves the system (recorded in case_exported)")
def audit_export(case_no: str, output: Path, purpose: str) -> None:
    """Export case CASE_NO for an external review: JSON events with chain hashes + HTML report."""
    services = cli_services()
    try:
        content, html = export_case(services, case_no, CLI_ACTOR, purpose=purpose)
    except NotFound:
        fail(f"no case {case_no}")
    report = output.with_suffix(".html") if output.name else output  # '' fails on writing
    write_file(output, content)
    write_file(report, html)
    click.echo(f"wrote {output} ({len(content)} bytes) and {report}")


@audit_group.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keys", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="keys file (default: the instance's keys.json); no database is needed")
def audit_verify_export(file: Path, keys: Path | None) -> None:
    """Verify an exported case file offline; exit 1 naming the first failure."""
    try:
        keyring = Keyring.load(keys or cli_settings().keys_path)
    except KeyFileError as exc:
        fail(f"错误：{exc}", 2)
    check = verify_export(file.read_bytes(), keyring)
    if not check.ok:
        fail(str(check))
    click.echo(str(check))


COMMANDS = [replay]
