"""``jiefen assistant``: the intake assistant's suggestion on the command line, and retraining."""

from __future__ import annotations

import json
from pathlib import Path

import click

from web.commands.admin import CLI_ACTOR
from web.commands.common import cli_services, fail
from web.messages import describe
from workflows.assistant import retrain as retraining
from workflows.assistant import suggest as assistant
from workflows.assistant.flags import FLAG_LABELS
from workflows.core.errors import InvalidInput
from workflows.models import CATEGORY_LABELS


@click.group("assistant")
def assistant_group() -> None:
    """The intake assistant (智能调解助手): suggestions and retraining."""


@assistant_group.command("suggest")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.argument("text")
def suggest_command(as_json: bool, text: str) -> None:
    """Categories (best first), urgency flags and points of dispute for TEXT."""
    services = cli_services()
    try:
        found = assistant.suggest(services.new_uow(), CLI_ACTOR, text)
    except InvalidInput as exc:
        fail("错误：" + describe(exc))
        return
    answer = found.as_json()
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    for item in answer["categories"]:
        click.echo(f"{item['score']:6.1%}  {item['code']:<20} {CATEGORY_LABELS.get(item['code'], '')}")
    for flag in answer["flags"]:
        click.echo(f"须人工复核：{FLAG_LABELS[flag['code']]}（{'、'.join(flag['words'])}）")
    points = answer["points"]
    if points["amount"]:
        click.echo(f"争议金额：{points['amount']} 元")
    if points["people"]:
        click.echo(f"涉及人数：{points['people']}")
    for key, word in (("periods", "期间"), ("organisations", "对方单位")):
        if points[key]:
            click.echo(f"{word}：{'、'.join(points[key])}")
    if points["dates"]:
        click.echo(f"时间：{'、'.join(d['text'] for d in points['dates'])}")


@assistant_group.command("retrain")
@click.option("--labelled", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="labelled set (default: the shipped one)")
@click.option("--min-closed", type=click.IntRange(0), default=retraining.MIN_CLOSED,
              show_default=True, help="closed cases needed before they are used")
@click.option("--folds", type=click.IntRange(2, 10), default=5, show_default=True)
def retrain_command(labelled: Path | None, min_closed: int, folds: int) -> None:
    """Train on the labelled set plus closed cases; replace the model only if not worse."""
    result = retraining.retrain(cli_services().new_uow(), CLI_ACTOR, labelled=labelled,
                                min_closed=min_closed, folds=folds)
    click.echo(f"训练样本 samples: 标注 labelled {result.labelled}，结案 closed cases "
               f"{result.closed}（找到 found {result.closed_found}，至少 min {min_closed}）")
    click.echo(f"交叉验证 cross-validated ({folds} folds): top-1 {result.candidate.top1:.1%}，"
               f"top-3 {result.candidate.top3:.1%}")
    click.echo(f"当前模型 current model: top-1 {result.current_top1:.1%}，"
               f"top-3 {result.current_top3:.1%}")
    if not result.replaced:
        fail("新模型不如当前模型，未替换 / the new model is worse: not replaced")
        return
    click.echo(f"已替换 replaced: model {result.model_id} ({(result.sha256 or '')[:12]})")


COMMANDS = [assistant_group]
