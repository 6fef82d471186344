"""`jiefen bench`: the engine-cycle benchmark (benchmarks/engine_cycle.py)."""

from __future__ import annotations

import sys

import click

from workflows.core.settings import ROOT


@click.command("bench")
@click.option("--repeats", default=30, show_default=True, help="measured cycles per size")
@click.option("--sizes", default="10,50,200", show_default=True, help="completed tasks per case")
def bench(repeats: int, sizes: str) -> None:
    """Raw SpiffWorkflow cycle vs jiefen's service-level task completion; prints the ratio."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.engine_cycle import run

    run(tuple(int(s) for s in sizes.split(",")), repeats=repeats, echo=click.echo)


COMMANDS = [bench]
