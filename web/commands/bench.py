"""`jiefen bench`: the engine-cycle benchmark (benchmarks/engine_cycle.py)."""

from __future__ import annotations

import sys

import click

from workflows.core.settings import ROOT

MAX_SIZE = 5000


def _sizes(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    """Comma-separated whole numbers of 1 to MAX_SIZE tasks."""
    parts = [p.strip() for p in value.split(",")]
    if not all(p.isascii() and p.isdigit() and len(p) < 6 and 1 <= int(p) <= MAX_SIZE
               for p in parts):
        raise click.BadParameter(f"逗号分隔的 1-{MAX_SIZE} 之间的整数，如 10,50,200")
    return tuple(int(p) for p in parts)


@click.command("bench")
@click.option("--repeats", default=30, show_default=True, type=click.IntRange(1, 1000),
              help="measured cycles per size")
@click.option("--sizes", default="10,50,200", show_default=True, callback=_sizes,
              help="completed tasks per case")
def bench(repeats: int, sizes: tuple[int, ...]) -> None:
    """Raw SpiffWorkflow cycle vs jiefen's service-level task completion; prints the ratio."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.engine_cycle import run

    run(sizes, repeats=repeats, echo=click.echo)


COMMANDS = [bench]
