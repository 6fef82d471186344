"""Core commands: keys, database, deploy, audit verification."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from alembic.util.exc import CommandError
from sqlalchemy import select

from engine.crypto import Keyring
from web.commands.common import cli_services, cli_settings, fail
from workflows.audit.checkpoints import SinkUnreadable, shipped_copies
from workflows.audit.log import verify_chains
from workflows.audit.verification import run_verification
from workflows.core import schema as migrate
from workflows.core.actors import SYSTEM, Actor
from workflows.core.errors import DeployRejected
from workflows.models import Case
from workflows.processes.deploy import deploy_bundle, read_directory


@click.group("keys")
def keys() -> None:
    """Keys for field encryption, blind indexes, the audit HMAC and cookies."""


@keys.command("init")
def keys_init() -> None:
    """Create the keys file and the cookie secret in the instance folder if missing."""
    settings = cli_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    if settings.keys_path.exists():
        click.echo(f"keys file exists: {settings.keys_path}")
    else:
        Keyring.generate(settings.keys_path)
        click.echo(f"created {settings.keys_path} (mode 0600)")
    secret = settings.instance_path / "secret_key"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(48))
        secret.chmod(0o600)


@keys.command("rotate")
@click.argument("purpose", type=click.Choice(["field_encryption", "audit_hmac"]))
def keys_rotate(purpose: str) -> None:
    """Add a new primary key for PURPOSE; old keys stay for reading."""
    new_id = Keyring.rotate(cli_settings().keys_path, purpose)
    click.echo(f"{purpose}: new primary key {new_id}")


@click.group("db")
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Migrate the configured database (DATABASE_URL or the SQLite file) to REVISION."""
    settings = cli_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    try:
        if not revision.strip():
            raise CommandError("empty revision")
        migrate.upgrade(settings.database, revision=revision)
    except CommandError:
        fail(f"错误：没有数据库版本 {revision!r}（可用 heads 或 jiefen db current 显示的版本）", 2)
    click.echo(f"database at {', '.join(migrate.current(settings.database))}")


@db.command("current")
def db_current() -> None:
    """Show the current revision."""
    click.echo(", ".join(migrate.current(cli_settings().database)) or "(empty)")


@click.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--note", default=None, help="why this version is deployed")
@click.option("--allow-unclaimable", is_flag=True,
              help="deploy even with user tasks no active user could claim (noted on the version)")
def deploy(paths: tuple[Path, ...], note: str | None, allow_unclaimable: bool) -> None:
    """Deploy BPMN/DMN files or folders as one bundle (default: the shipped bpmn/ folder)."""
    services = cli_services()
    files: dict[str, bytes] = {}
    for path in paths or (services.settings.bpmn_dir,):
        files.update(read_directory(Path(path)))
    actor = Actor(type="system", id="cli", username="cli")
    try:
        versions = deploy_bundle(services.new_uow(), actor, files, note=note,
                                 allow_unclaimable=allow_unclaimable)
    except DeployRejected as exc:
        click.echo("部署被拒绝 / deploy refused:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    for version in versions:
        click.echo(f"{version.process_id} version {version.version} ({version.bundle_sha256[:12]})")
        if version.note and "【警告】" in version.note:
            click.echo(f"  {version.note}", err=True)


@click.group("audit")
def audit() -> None:
    """Audit-chain verification."""


@audit.command("verify")
@click.option("--case", "case_no", default=None, help="verify one case's chain")
@click.option("--heads", "heads_file", type=click.Path(path_type=Path), default=None,
              help="a copy of exported heads (JSON lines) instead of the configured sinks")
@click.option("--incremental", is_flag=True,
              help="only the events appended since each chain's last verified position")
@click.option("--workers", type=click.IntRange(1, 16), default=None,
              help="processes for a full run (default: one per core)")
def audit_verify(case_no: str | None, heads_file: Path | None, incremental: bool,
                 workers: int | None) -> None:
    """Verify every chain (or one case's) against itself and the exported heads of the
    configured sinks (file, and HTTP when set), and that every case, user, token and process
    version still has its record; exit 1 naming the first break. A run over every chain signs
    the positions it verified, so ``--incremental`` later re-hashes only what was appended."""
    services = cli_services()
    if case_no:
        with services.session_factory() as session:
            report = verify_chains(session, services.keyring, [_chain_of(session, case_no)],
                                   shipped=_shipped(services, heads_file))
    else:
        report = run_verification(services, SYSTEM, incremental=incremental, workers=workers,
                                  shipped=() if incremental else _shipped(services, heads_file))
    if not report.ok:
        first = report.breaks[0]
        fail(f"BROKEN {_label(services, first.chain_key)} seq {first.seq}: {first.reason}")
    mode = "incremental: " if incremental and not case_no else ""
    click.echo(f"OK {mode}{report.chains} chains, {report.events} events")


def _shipped(services, heads_file: Path | None) -> list[tuple[str, list[str]]]:
    try:
        return [(heads_file.name, heads_file.read_text(encoding="utf-8").splitlines())] \
            if heads_file else shipped_copies(services.settings)
    except (OSError, UnicodeDecodeError, SinkUnreadable) as exc:
        fail(f"错误：无法读取导出的审计链头：{exc}", 2)
        raise


def _chain_of(session, case_no: str) -> str:

    case_id = session.scalar(select(Case.id).where(Case.case_no == case_no))
    if case_id is None:
        fail(f"no case {case_no}")
    return f"case:{case_id}"


def _label(services, chain_key: str) -> str:
    if not chain_key.startswith("case:"):
        return chain_key

    with services.session_factory() as session:
        case = session.get(Case, int(chain_key.split(":", 1)[1]))
    return f"case {case.case_no}" if case is not None else chain_key


COMMANDS = [keys, db, deploy, audit]
