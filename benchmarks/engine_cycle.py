"""Load -> complete one task -> save: raw SpiffWorkflow in memory vs jiefen's service level (SQLite
file, audit chain and commit included), measured in one process and one run.

Run with `jiefen bench` (or `python -m benchmarks.engine_cycle`). Reported as medians and the ratio
jiefen/raw; the last line is `ratio jiefen/raw at 50 tasks: X.XX`. Not a timed test.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.clock import FrozenClock, use_clock
from engine.crypto import Keyring
from engine.serializer import make_serializer
from engine.xmlsafe import safe_fromstring

LOOP = Path(__file__).with_name("loop.bpmn")
NOTE = "当事人双方同意继续调解，约定下次会谈时间。" * 8      # ~200 characters per step
SIZES = (10, 50, 200)
REPEATS = 30


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _interleaved(steps: list[Callable[[], None]], repeats: int) -> list[list[float]]:
    """Alternate the steps so machine noise hits every side alike."""
    samples: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for index, step in enumerate(steps):
            started = time.perf_counter()
            step()
            samples[index].append(time.perf_counter() - started)
    return samples


def raw_cycle(completed: int) -> tuple[Callable[[], None], Callable[[], int]]:
    """SpiffWorkflow alone: deserialize, set data + run the user task, engine steps, serialize."""
    parser = SpiffBpmnParser()                   # plain SpiffWorkflow: quoted timer, eval engine
    text = LOOP.read_bytes().replace(b">PT24H<", b">'PT24H'<")
    parser.add_bpmn_xml(safe_fromstring(text, "loop.bpmn"), "loop.bpmn")
    spec, deps = parser.get_spec("bench_loop"), parser.get_subprocess_specs("bench_loop")
    engine = PythonScriptEngine()
    serializer = make_serializer(engine, lambda _version: (spec, deps))
    workflow = BpmnWorkflow(spec, deps, script_engine=engine)
    workflow.spec_version = "raw:bench_loop"
    workflow.do_engine_steps()
    state = [serializer.serialize_json(workflow)]

    def step() -> None:
        wf = serializer.deserialize_json(state[0])
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.set_data(note=NOTE, done=False)
        task.run()
        wf.do_engine_steps()
        state[0] = serializer.serialize_json(wf)

    for _ in range(completed):
        step()
    return step, lambda: len(state[0])


def jiefen_cycle(completed: int, workdir: Path, *,
                 cold: bool = False) -> tuple[Callable[[], None], Callable[[], int]]:
    """jiefen: unit of work on a SQLite file: load, validate, fire timers + complete, audit, commit.

    A step reuses the instance its predecessor committed (engine/instance_cache.py); ``cold``
    empties that cache before each step, so every step parses the state as the raw cycle does."""
    from engine.forms import validate_submission
    from workflows.core.actors import Actor
    from workflows.core.schema import upgrade
    from workflows.core.settings import Settings
    from workflows.processes.deploy import deploy_bundle
    from workflows.runtime.bootstrap import bootstrap

    name = f"{completed}{'-cold' if cold else ''}"
    url = f"sqlite:///{workdir / f'bench-{name}.sqlite3'}"
    upgrade(url)
    keyring = Keyring.generate(workdir / f"keys-{name}.json")
    clock = FrozenClock(datetime(2025, 3, 3, 1, 0, tzinfo=UTC))
    services = bootstrap(Settings.from_env(instance_path=workdir, database_url=url),
                         clock=clock, keyring=keyring)
    actor = Actor(type="user", id="1", username="bench", roles=frozenset({"mediator"}))
    system = Actor(type="system", id="system", username="system")
    deploy_bundle(services.new_uow(), system, {"loop.bpmn": LOOP.read_bytes()})
    uow = services.new_uow()
    with uow:
        row, _ = uow.start_instance("bench_loop", data={}, actor=system, case=1)
        uow.commit()
    instance_id = row.id

    def step() -> None:
        if cold:
            services.instances.clear()
        uow = services.new_uow()
        with uow:
            instance = uow.load_instance(instance_id)
            with uow.recording(instance, actor, case=1):
                task = instance.ready_tasks()[0]     # complete() fires due timers first
                clean = validate_submission(task.form, {"note": NOTE, "done": "false"})
                instance.complete(task.id, clean)
            uow.audit.record("task_completed", actor, case=1, object_type="task",
                             object_id=task.id, bpmn_id=task.bpmn_id, submitted=clean)
            uow.commit()

    def clocked_step() -> None:
        with use_clock(clock):
            step()

    def size() -> int:
        from engine.models import InstanceRow

        with services.session_factory() as session:
            return len(session.get(InstanceRow, instance_id).state)

    for _ in range(completed):
        clocked_step()
    return clocked_step, size


def run(sizes=SIZES, repeats: int = REPEATS, echo: Callable[[str], None] = print) -> dict:
    """Measure the cycles at each size; returns {size: (raw_ms, jiefen_ms, ratio)}. The ``cold``
    columns are jiefen parsing the state at every step (no instance kept from the last commit)."""
    results = {}
    echo(f"{'tasks':>6} {'raw ms':>9} {'jiefen ms':>10} {'ratio':>6} {'cold ms':>8} "
         f"{'cold ratio':>10} {'raw KB':>7} {'jiefen KB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            raw_step, raw_size = raw_cycle(size)
            jf_step, jf_size = jiefen_cycle(size, Path(tmp))
            cold_step, _ = jiefen_cycle(size, Path(tmp), cold=True)
            raw_samples, jf_samples, cold_samples = _interleaved([raw_step, jf_step, cold_step],
                                                                 repeats)
            raw_ms, jf_ms = _median_ms(raw_samples), _median_ms(jf_samples)
            cold_ms = _median_ms(cold_samples)
            results[size] = (raw_ms, jf_ms, jf_ms / raw_ms)
            echo(f"{size:>6} {raw_ms:>9.2f} {jf_ms:>10.2f} {jf_ms / raw_ms:>6.2f} {cold_ms:>8.2f} "
                 f"{cold_ms / raw_ms:>10.2f} {raw_size() / 1024:>7.1f} {jf_size() / 1024:>9.1f}")
    if 50 in results:
        echo(f"ratio jiefen/raw at 50 tasks: {results[50][2]:.2f}")
    return results


if __name__ == "__main__":
    run()
