"""`jiefen bench`: the engine-cycle benchmark (benchmarks/engine_cycle.py)."""

from __future__ import annotations

import sys

import click

from web.commands.common import cli_services
from workflows.core.settings import ROOT

MAX_SIZE = 5000


def _sizes(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    """Comma-separated whole numbers of 1 to MAX_SIZE tasks."""
    parts = [p.strip() for p in value.split(",")]
    if not all(p.isascii() and p.isdigit() and len(p) < 6 and 1 <= int(p) <= MAX_SIZE
               for p in parts):
        raise click.BadParameter(f"逗号分隔的 1-{MAX_SIZE} 之间的整数，如 10,50,200")
    return tuple(int(p) for p in parts)


@click.group("bench", invoke_without_command=True)
@click.option("--repeats", default=30, show_default=True, type=click.IntRange(1, 1000),
              help="measured cycles per size")
@click.option("--sizes", default="10,50,200", show_default=True, callback=_sizes,
              help="completed tasks per case")
@click.option("--http/--no-http", "over_http", default=True, show_default=True,
              help="also the real dispute flow over HTTP (SQLite, or DATABASE_URL)")
@click.pass_context
def bench(ctx: click.Context, repeats: int, sizes: tuple[int, ...], over_http: bool) -> None:
    """Raw SpiffWorkflow cycle vs jiefen's service-level task completion, then the real dispute
    flow over HTTP against a server started here, interleaved with the raw cycle; prints medians,
    p90, statements per step and the ratios. Subcommands: generate (bulk cases), list (the
    case-list benchmark)."""
    if ctx.invoked_subcommand is not None:
        return
    sys.path.insert(0, str(ROOT))
    from benchmarks.engine_cycle import run

    run(sizes, repeats=repeats, echo=click.echo)
    if over_http:
        from benchmarks.http_flow import run as run_http

        run_http(sizes, repeats=repeats, echo=click.echo)


@bench.command("generate")
@click.option("--cases", "count", required=True, type=click.IntRange(1, 10_000_000),
              help="how many cases to add")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**31),
              help="the same seed gives the same cases")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16),
              help="processes building and writing rows (PostgreSQL)")
def generate(count: int, seed: int, workers: int) -> None:
    """Add COUNT believable cases in bulk to a database that holds a district (jiefen demo)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import generate as fill

    services = cli_services()
    figures = fill(services, count, seed, workers, echo=click.echo)
    click.echo(f"{figures['cases']:,} cases in {figures['seconds']:.1f} s "
               f"({figures['cases'] / figures['seconds']:,.0f} cases/s)")


@bench.command("list")
@click.option("--requests", "count", default=200, show_default=True,
              type=click.IntRange(1, 10_000), help="requests of each kind")
@click.option("--unit", "units", multiple=True, default=("ZZ", "street"), show_default=True,
              help="code of a unit whose supervisor asks (ZZ: the district's centre; street: "
                   "the first street or township centre); repeat for several")
def list_bench(count: int, units: tuple[str, ...]) -> None:
    """p50 / p95 of the /cases page and GET /api/v1/cases with filters and free text."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.case_list_bench import run, street_unit
    from web import create_app

    app = create_app()
    services = app.extensions["jiefen_services"]
    for unit in units:
        run(app, services, requests=count, echo=click.echo,
            unit=street_unit(services) if unit == "street" else unit)


COMMANDS = [bench]
