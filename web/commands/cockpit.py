"""``jiefen cockpit rebuild``: recompute the cockpit's rollups from the cases."""

from __future__ import annotations

import time

import click

from web.commands.common import cli_services
from workflows.rollups import maintain


@click.group("cockpit")
def cockpit() -> None:
    """The leaders' cockpit: rebuild its rollups."""


@cockpit.command("rebuild")
def rebuild() -> None:
    """Recompute every rollup row from the cases, in one transaction (after an upgrade from a
    version without rollups, or a bulk load that wrote cases directly); the cases queued for a
    catch-up are covered by it. A catch-up waits for it; a change committed meanwhile stays
    queued for the next catch-up."""
    services = cli_services()
    started = time.perf_counter()
    with services.new_uow() as uow:
        counts = maintain.rebuild(uow.session, services.settings.timezone, services.clock.now())
        uow.commit()
    click.echo(f"已重建驾驶舱汇总：{counts['cases']:,} 件案件，"
               f"汇总行 {sum(counts[name] for name in maintain.MODELS):,}，"
               f"用时 {time.perf_counter() - started:.1f} 秒")


COMMANDS = [cockpit]
