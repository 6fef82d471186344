"""What a step's recorder keeps (engine/recorder.py) does not depend on how it was gathered: the
data texts are those of the registry's full copy, and a step seen through log records (an
operator's handler on ``spiff.task``) records the same as one handed over directly."""

from __future__ import annotations

import enum
import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from engine.recorder import _REF_JSON, TaskEventRecorder, _Dispatch, _ref_writer
from tests.engine.test_engine_paths import finish_dispatch

AT = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


class Level(enum.StrEnum):
    URGENT = "紧急"


class Rank(enum.IntEnum):
    HIGH = 3


class Colour(enum.Enum):
    RED = "red"


def _helper() -> None:
    """A callable in task data: the registry's copy leaves it out of a dict."""


TYPED = {
    "day": date(2025, 3, 3), "moment": datetime(2025, 3, 3, 9, 30, tzinfo=UTC),
    "wait": timedelta(days=2, seconds=5), "amount": Decimal("12.50"),
    "ref": UUID("12345678-1234-5678-1234-567812345678"), "level": Level.URGENT, "rank": Rank.HIGH,
    "colour": Colour.RED, "tags": {"甲"}, "frozen": frozenset({"乙"}), "pair": (1, date(2025, 1, 2)),
    "nested": {"deep": [{"when": date(2025, 5, 1)}, None, 1.5, float("nan")]}, "note": "当事人",
}


@pytest.mark.parametrize("value", [
    {},
    TYPED,
    {**TYPED, "nested": {"fn": _helper, "kept": 1}},     # dropped from the copy's dict
    {"items": [_helper, json]},                          # kept in a list (written with str())
    {"top": _helper, "module": json, "x": 1},
])
def test_data_texts_are_those_of_the_registrys_full_copy(serializer, value):
    registry = serializer.registry
    assert _ref_writer(registry)(value) == _REF_JSON.encode(registry.convert(value))


def test_data_the_registry_cannot_copy_is_refused_as_before(serializer):
    value = {"dates": {date(2025, 1, 1)}}     # a set of typed values: their copies are dicts
    with pytest.raises(TypeError):
        _REF_JSON.encode(serializer.registry.convert(value))
    with pytest.raises(TypeError):
        _ref_writer(serializer.registry)(value)


class _Both(TaskEventRecorder):
    """Notes, next to each data text, the text the registry's full copy gives at that moment."""

    def __init__(self, *args):
        super().__init__(*args)
        self.pairs: list[tuple[str, str]] = []

    def _ref(self, value):
        self.pairs.append((self._text(value), _REF_JSON.encode(self.registry.convert(value))))
        return super()._ref(value)


def test_a_step_over_typed_data_records_the_full_copys_texts(start, serializer):
    instance = start(category="neighbour", people_count=1, note="邻里纠纷")
    ready = instance.ready_tasks()[0]
    data = {k: v for k, v in TYPED.items() if k not in ("colour", "nested")}   # deep-copyable
    with _Both(instance.workflow, serializer.registry, lambda: AT) as recorder:
        instance.complete(ready.id, data)
    assert len(recorder.pairs) >= 2
    assert all(new == old for new, old in recorder.pairs)
    after = json.loads(recorder.pairs[-1][0])
    assert after["day"] == {"value": "2025-03-03", "typename": "date"}
    assert after["level"] == "紧急" and after["rank"] == 3


def _step(start, serializer, made: list | None = None) -> tuple[list, dict]:
    instance = start(category="labour", people_count=12, note="集体劳动争议")
    if made is not None:
        del made[:]      # records of the start, no recorder running
    with TaskEventRecorder(instance.workflow, serializer.registry, lambda: AT) as recorder:
        finish_dispatch(instance)     # the joint dispatch, its join and the call activity
    return recorder.transitions, recorder.step_payload()


def _without_ids(payload: dict) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    ids: dict[str, str] = {}
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    return re.sub(uuid, lambda m: ids.setdefault(m.group(), f"<task {len(ids)}>"), text)


@pytest.fixture
def spiff_log():
    """The library's task logger, its handlers and filters put back after the test."""
    log = logging.getLogger("spiff.task")
    handlers, filters = list(log.handlers), list(log.filters)
    yield log
    log.handlers[:], log.filters[:] = handlers, filters


def test_a_step_records_the_same_handed_over_or_through_log_records(start, serializer,
                                                                     spiff_log, monkeypatch):
    spiff_log.handlers[:] = [h for h in spiff_log.handlers if isinstance(h, _Dispatch)]
    made = []
    original = logging.Logger.makeRecord
    monkeypatch.setattr(logging.Logger, "makeRecord",
                        lambda self, *a, **k: made.append(1) or original(self, *a, **k))
    start(category="neighbour", people_count=1)
    assert made == []                   # no recorder, nothing else listens: no record is built
    transitions, handed = _step(start, serializer, made)
    assert made == []                   # nor while a step is recorded
    spiff_log.addFilter(lambda record: True)   # a filter sees records: they are built again
    _, through_records = _step(start, serializer, made)

    assert made and len(transitions) > 5 and any(t["data_after"] for t in transitions)
    assert _without_ids(through_records) == _without_ids(handed)


class _Seen(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_an_operators_handler_sees_every_change_as_the_library_logs_it(start, serializer,
                                                                        spiff_log):
    seen = _Seen()
    spiff_log.addHandler(seen)
    instance = start(category="labour", people_count=12)
    del seen.records[:]
    with TaskEventRecorder(instance.workflow, serializer.registry, lambda: AT) as recorder:
        finish_dispatch(instance)

    assert [str(r.task_id) for r in seen.records] == [t["task_id"] for t in recorder.transitions]
    assert {Path(r.pathname).name for r in seen.records} == {"task.py"}   # the library's line
