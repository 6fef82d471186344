"""Dry runs kept as regression examples: save one, list a process's examples, re-run them all
against a draft and say, per example, whether the change altered its path.

An example keeps its start time, start data and actions, so a re-run is the same run on other
files; what it took (engine.path_compare.outcome_of) is recorded when it is saved, from a run on
the server (never from what a browser sends).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.input_rules import text_error
from engine.path_compare import Difference, compare, outcome_of
from workflows.access.policy import require_owner
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import (
    DeployRejected,
    ErrorCode,
    FieldCode,
    FieldError,
    InvalidInput,
    NotFound,
)
from workflows.models.drafts import DryRunExample
from workflows.processes.workbench import dry_run
from workflows.runtime.bootstrap import Services

MAX_EXAMPLE_BYTES = 200_000  # start data and actions together, as JSON


@dataclass
class ExampleInfo:
    id: int
    process_id: str
    title: str
    start: datetime
    actions: int
    created_by: str
    created_at: datetime

    def as_dict(self) -> dict:
        return {"id": self.id, "process_id": self.process_id, "title": self.title,
                "start": self.start.isoformat(), "actions": self.actions,
                "created_by": self.created_by, "created_at": self.created_at.isoformat()}


@dataclass
class ExampleCheck:
    """One example re-run against new files: ``differences`` empty means the path is the same;
    ``problems`` set means the files could not run at all."""

    example: ExampleInfo
    differences: list[Difference] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences and not self.problems

    def as_dict(self) -> dict:
        return {"example": self.example.as_dict(), "same": self.same,
                "differences": [d.as_dict() for d in self.differences],
                "problems": self.problems}


def _info(row: DryRunExample) -> ExampleInfo:
    return ExampleInfo(row.id, row.process_id, row.title, row.start, len(row.actions or []),
                       row.created_by, row.created_at)


def save_example(services: Services, actor: Actor, files: Mapping[str, str | bytes], *,
                 process_id: str | None, title: str, data: Mapping[str, Any],
                 actions: Sequence[Mapping[str, Any]]) -> ExampleInfo:
    """Run the dry run now and keep it (its inputs and the path it took) as an example."""
    require_owner(actor, services)
    _check(title, data, actions)
    start = services.clock.now()
    result = dry_run(services, actor, files, process_id=process_id, data=data, actions=actions,
                     start=start)
    process_id = process_id or _first_step_process(result) or ""
    uow = services.new_uow()
    with uow:
        row = DryRunExample(process_id=process_id, title=title.strip(), start=start,
                            data=dict(data), actions=[dict(a) for a in actions],
                            outcome=outcome_of(result),
                            created_by=actor.username or actor.type, created_at=start)
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(AuditAction.DRY_RUN_EXAMPLE_SAVED, actor, object_type="dry_run_example",
                         object_id=row.id, process_id=process_id, title=row.title)
        info = _info(row)
        uow.commit()
    return info


def _first_step_process(result: Any) -> str | None:
    return result.path[0].process_id if result.path else None


def _check(title: str, data: Mapping[str, Any], actions: Sequence[Mapping[str, Any]]) -> None:
    errors: dict[str, FieldError] = {}
    if not isinstance(title, str) or not title.strip():
        errors["title"] = FieldError(FieldCode.REQUIRED)
    elif (error := text_error(title, multiline=False, max_length=200)) is not None:
        errors["title"] = error
    if not isinstance(data, Mapping) or not isinstance(actions, Sequence) \
            or not all(isinstance(a, Mapping) for a in actions):
        errors["data"] = FieldError(ErrorCode.DRY_RUN_BODY)
    elif len(json.dumps([data, list(actions)], ensure_ascii=False, default=str)) \
            > MAX_EXAMPLE_BYTES:
        errors["data"] = FieldError(FieldCode.TOO_LONG, {"limit": MAX_EXAMPLE_BYTES})
    if errors:
        raise InvalidInput(errors)
    # an example is kept: no personal data in its title or in any text it types
    texts = {"title": title, "data": json.dumps([data, list(actions)], ensure_ascii=False,
                                                default=str)}
    if found := pii_text.field_errors(texts):
        raise InvalidInput(found)


def list_examples(services: Services, actor: Actor, process_id: str | None = None
                  ) -> list[ExampleInfo]:
    require_owner(actor, services)
    with services.new_uow() as uow:
        query = select(DryRunExample).order_by(DryRunExample.id)
        if process_id:
            query = query.where(DryRunExample.process_id == process_id)
        return [_info(row) for row in uow.session.scalars(query)]


def check_examples(services: Services, actor: Actor, files: Mapping[str, str | bytes],
                   process_id: str) -> list[ExampleCheck]:
    """Re-run every example of ``process_id`` on ``files``: did the change alter its path?"""
    require_owner(actor, services)
    with services.new_uow() as uow:
        rows = [(_info(r), r.data, r.actions, r.outcome) for r in uow.session.scalars(
            select(DryRunExample).where(DryRunExample.process_id == process_id)
            .order_by(DryRunExample.id))]
    checks = []
    for info, data, actions, before in rows:
        try:
            result = dry_run(services, actor, files, process_id=process_id, data=data,
                             actions=actions, start=info.start)
        except DeployRejected as exc:
            checks.append(ExampleCheck(info, problems=[p.as_dict() for p in exc.problems]))
            continue
        except InvalidInput:  # the process is no longer in the files
            checks.append(ExampleCheck(info, problems=[{
                "file": "", "element_id": None, "message": f"no process {process_id!r}",
                "severity": "error", "code": "no_process", "params": {"process_id": process_id}}]))
            continue
        checks.append(ExampleCheck(info, compare(before, outcome_of(result))))
    return checks


def delete_example(services: Services, actor: Actor, example_id: int) -> None:
    require_owner(actor, services)
    uow = services.new_uow()
    with uow:
        row = uow.session.get(DryRunExample, example_id)
        if row is None:
            raise NotFound(ErrorCode.NOT_FOUND, example_id=example_id)
        uow.session.delete(row)
        uow.audit.record(AuditAction.DRY_RUN_EXAMPLE_DELETED, actor,
                         object_type="dry_run_example", object_id=example_id,
                         process_id=row.process_id)
        uow.commit()
