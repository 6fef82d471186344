"""The library's engine steps with a faster walk of the task tree, running the same tasks in the
same order.

``BpmnWorkflow.do_engine_steps`` looks for READY tasks with the library's tree iterator, once for
every workflow it visits and again until nothing is left to run: most of an engine step's time.
The iterator pops each task off the front of a list, prepends its children, keeps a depth count
by looking parents up, and tests every task through a filter object. ``ready_engine_tasks`` walks
the same tree in the same order with a plain stack. The iterator also stops descending 1000
levels down; with at most 1000 tasks in all (every task on the way down is a distinct one) that
limit cannot bind, and beyond that size the library's own iterator is asked.

After every completed task the library also walks that workflow's tree for WAITING tasks to
update: ``quicken`` skips that walk where nothing waits and otherwise walks as the iterator does
(``update_waiting``). ``share_ids`` makes a loaded state's id references one object per id.

All of this copies SpiffWorkflow 3.2.0's code, which setup.cfg does not pin to the patch level:
``LIBRARY_SOURCES`` holds a hash of each library function copied or relied on, and where the
installed library's source differs (or cannot be read) the library's own steps run instead.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from SpiffWorkflow import TaskState, Workflow
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter, BpmnTaskIterator
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskFilter, TaskIterator

log = logging.getLogger(__name__)

READY, WAITING = TaskState.READY, TaskState.WAITING
# the iterator's min_state for a READY filter: it does not descend below tasks under it
READY_MIN_STATE = TaskState.FUTURE if READY & TaskState.DEFINITE_MASK else TaskState.MAYBE
MAX_TASKS = 1000   # the iterator's max_depth: with no more tasks than this, no path is as deep
MAX_DEPTH = 1000   # the iterator's max_depth, for the waiting walk (it may grow the tree)
WAITING_MIN_STATE = TaskState.FUTURE if WAITING & TaskState.DEFINITE_MASK else TaskState.MAYBE


def _library_functions() -> dict[str, Any]:
    """The library's functions this module copies or relies on, by name."""
    return {
        "BpmnWorkflow.do_engine_steps": BpmnWorkflow.do_engine_steps,
        "BpmnWorkflow._do_engine_steps": BpmnWorkflow._do_engine_steps,
        "BpmnWorkflow.get_active_subprocesses": BpmnWorkflow.get_active_subprocesses,
        "BpmnWorkflow.create_subprocess": BpmnWorkflow.create_subprocess,
        "BpmnWorkflow.top_workflow": BpmnWorkflow.top_workflow.fget,
        "BpmnBaseWorkflow.get_tasks_iterator": BpmnBaseWorkflow.get_tasks_iterator,
        "Workflow.get_tasks": Workflow.get_tasks,
        "Workflow.update_waiting_tasks": Workflow.update_waiting_tasks,
        "Workflow._task_completed_notify": Workflow._task_completed_notify,
        "TaskIterator.__init__": TaskIterator.__init__,
        "TaskIterator.__next__": TaskIterator.__next__,
        "TaskIterator._next": TaskIterator._next,
        "TaskIterator._update_depth": TaskIterator._update_depth,
        "TaskIterator._handle_leaf_depth": TaskIterator._handle_leaf_depth,
        "BpmnTaskIterator.__init__": BpmnTaskIterator.__init__,
        "BpmnTaskIterator._next": BpmnTaskIterator._next,
        "TaskFilter.__init__": TaskFilter.__init__,
        "TaskFilter.matches": TaskFilter.matches,
        "BpmnTaskFilter.__init__": BpmnTaskFilter.__init__,
        "BpmnTaskFilter.matches": BpmnTaskFilter.matches,
        "Task.state": Task.state.fget,
        "Task.has_state": Task.has_state,
        "Task.parent": Task.parent.fget,
        "Task.children": Task.children.fget,
    }


def library_sources() -> dict[str, str]:
    """Each function's source hash (the first 16 hex digits of its SHA-256)."""
    return {name: hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
            for name, function in _library_functions().items()}


# SpiffWorkflow 3.2.0's, as read by library_sources()
LIBRARY_SOURCES = {
    "BpmnWorkflow.do_engine_steps": "0dddd74053a531e3",
    "BpmnWorkflow._do_engine_steps": "1c52d09d52f72038",
    "BpmnWorkflow.get_active_subprocesses": "ad2eb3f85816dc79",
    "BpmnWorkflow.create_subprocess": "d29d0ee4716cc3ba",
    "BpmnWorkflow.top_workflow": "c52eac2ae1412a1e",
    "BpmnBaseWorkflow.get_tasks_iterator": "d238edf6a8b16727",
    "Workflow.get_tasks": "7dc3413faeb71c5c",
    "Workflow.update_waiting_tasks": "258ee4cb217fa709",
    "Workflow._task_completed_notify": "a87c9bea38b2f71e",
    "TaskIterator.__init__": "86cd5292d76b19c4",
    "TaskIterator.__next__": "e022469d2efe5d1c",
    "TaskIterator._next": "55dbe46635bd176b",
    "TaskIterator._update_depth": "b018c506c9b027fe",
    "TaskIterator._handle_leaf_depth": "d873a71707f4a5c6",
    "BpmnTaskIterator.__init__": "d2e1aaf4d8328c22",
    "BpmnTaskIterator._next": "344c7da965a176ec",
    "TaskFilter.__init__": "980e05ef75472b56",
    "TaskFilter.matches": "a495446080b6cf4e",
    "BpmnTaskFilter.__init__": "63cdfac1832eaae9",
    "BpmnTaskFilter.matches": "08e50e44d4836004",
    "Task.state": "87299379ec4ed550",
    "Task.has_state": "51bfc706797e11e1",
    "Task.parent": "70a7622fce2f348b",
    "Task.children": "ab66856eadb442f8",
}


@functools.cache
def library_unchanged() -> bool:
    """The installed library's copied functions are 3.2.0's (checked once per process)."""
    try:
        found = library_sources()
    except (OSError, TypeError):   # no source installed: nothing to compare
        found = {}
    changed = sorted(name for name, digest in LIBRARY_SOURCES.items() if found.get(name) != digest)
    if changed:
        log.warning("SpiffWorkflow's %s differ from 3.2.0's: its own engine steps run",
                    ", ".join(changed))
    return not changed


def do_engine_steps(workflow: BpmnWorkflow,
                    will_complete_task: Callable[[Task], None] | None = None) -> None:
    """``workflow.do_engine_steps(will_complete_task)`` (SpiffWorkflow 3.2.0), its walks
    replaced by ``ready_engine_tasks``; the library's own where its code is not 3.2.0's."""
    if not library_unchanged():
        workflow.do_engine_steps(will_complete_task=will_complete_task)
        return
    while _engine_pass(workflow, will_complete_task):
        pass
    workflow.refresh_timers()


def _engine_pass(top: BpmnWorkflow, will_complete_task: Callable[[Task], None] | None) -> bool:
    """BpmnWorkflow._do_engine_steps: the sub-processes deepest first, each until nothing runs,
    updating the task that runs it; then the workflow itself once."""
    def update_workflow(wf: BpmnBaseWorkflow) -> int:
        count = 0
        for task in ready_engine_tasks(wf, top):
            if will_complete_task is not None:
                will_complete_task(task)
            task.run()
            count += 1
        return count

    active = top.get_active_subprocesses()
    for subprocess in sorted(active, key=lambda v: v.depth, reverse=True):
        while update_workflow(subprocess) > 0:
            pass
        if subprocess.parent_task_id is not None:
            task = top.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)
    count = update_workflow(top)
    return count > 0 or len(top.get_active_subprocesses()) > len(active)


def ready_engine_tasks(wf: BpmnBaseWorkflow, top: BpmnWorkflow) -> list[Task]:
    """``[t for t in wf.get_tasks(state=READY) if not t.task_spec.manual]``, in its order: a
    depth-first walk from ``wf``'s root that descends from a task holding children (or running a
    sub-process, whose root comes first) when its state is FUTURE or later, or when it runs a
    sub-process."""
    subs = top.subprocesses
    workflows = (top, *subs.values())
    if sum(len(w.tasks) for w in workflows) > MAX_TASKS:
        return [t for t in wf.get_tasks(state=READY) if not t.task_spec.manual]
    if not _any_engine_task_ready(workflows):
        return []   # (most passes: nothing anywhere to run; no lookups by id needed to know)
    found: list[Task] = []
    stack = [wf.task_tree]
    pop, push = stack.pop, stack.extend
    while stack:
        task = pop()
        state = task._state
        sub = subs.get(task.id) if subs else None
        children = task._children
        if (children or sub is not None) and (state >= READY_MIN_STATE or sub is not None) \
                and task.task_spec.name is not None:
            tasks = task.workflow.tasks
            below = [tasks.get(child) for child in children]
            # (the iterator would skip the sub-process of a task in a state >= FINISHED_MASK:
            # no single state reaches that value)
            if sub is not None:
                below.insert(0, sub.task_tree)
            push(reversed(below))
        if state & READY and task.last_state_change >= 0 and not task.task_spec.manual:
            found.append(task)
    return found


def _any_engine_task_ready(workflows: tuple[BpmnBaseWorkflow, ...]) -> bool:
    for w in workflows:
        for task in w.tasks.values():
            if task._state == READY and not task.task_spec.manual:
                return True
    return False


def quicken(workflow: BpmnWorkflow) -> None:
    """Give ``workflow`` and its sub-processes (and those it starts later) a waiting-task update
    that skips the library's walk when no task of that workflow is WAITING."""
    if "create_subprocess" in vars(workflow) or not library_unchanged():
        return   # given already, or the library's walk is not the one copied here
    for each in (workflow, *workflow.subprocesses.values()):
        _skip_idle_waiting_walk(each)
    create = workflow.create_subprocess

    def create_subprocess(my_task: Task, spec_name: str) -> BpmnBaseWorkflow:
        subprocess = create(my_task, spec_name)
        _skip_idle_waiting_walk(subprocess)
        return subprocess

    workflow.create_subprocess = create_subprocess


def _skip_idle_waiting_walk(wf: BpmnBaseWorkflow) -> None:
    """``wf.update_waiting_tasks()`` runs after every task that completes in ``wf``: the library's
    iterator walks wf's tree and updates each WAITING task it reaches, and reaches only tasks of
    wf. When none is WAITING the walk updates nothing: it is not taken; else ``update_waiting``
    walks as the iterator does. Set on the object, not the class, so the raw library (and the
    benchmark's raw cycle) are untouched."""
    if "update_waiting_tasks" in vars(wf):
        return   # given already

    def update_waiting_tasks() -> None:
        for task in wf.tasks.values():
            if task._state & WAITING:
                update_waiting(wf)
                return

    wf.update_waiting_tasks = update_waiting_tasks


def update_waiting(wf: BpmnBaseWorkflow) -> None:
    """``Workflow.update_waiting_tasks`` (SpiffWorkflow 3.2.0): ``task.task_spec._update(task)``
    for each task its TaskIterator(wf.task_tree, state=WAITING) yields, one at a time (an update
    may change what comes next), step for step as the iterator walks: a task's children are
    taken when it is reached, if its state is FUTURE or later and its depth count below 1000;
    the depth count is kept as the iterator keeps it, with the same parent look-ups."""
    stack = [wf.task_tree]   # the iterator's task list, its front at the end
    depth = 0
    while stack:
        task = stack.pop()
        children = task._children
        if children and task._state >= WAITING_MIN_STATE and depth < MAX_DEPTH \
                and task.task_spec.name is not None:
            tasks = task.workflow.tasks
            stack.extend(reversed([tasks.get(child) for child in children]))
            depth += 1
        elif stack:   # TaskIterator._handle_leaf_depth
            following = stack[-1]
            ancestor = following.workflow.tasks.get(following._parent)
            current = task.workflow.tasks.get(task._parent)
            while current is not None and current is not ancestor:
                current = current.workflow.tasks.get(current._parent)
                depth -= 1
        if task._state & WAITING and task.last_state_change >= 0:
            task.task_spec._update(task)


def share_ids(workflow: BpmnWorkflow) -> None:
    """Make a loaded task's id, its parent's reference to it and its children's to it the one
    UUID object its workflow's task dict is keyed by (the library's loader makes a new object for
    each; tasks it creates share them already). Equal values, so nothing reads differently; a
    lookup by such a reference then finds its key by identity instead of calling UUID.__eq__, and
    the state's writer knows each id's text by the object (engine/state_dump.py)."""
    for wf in (workflow, *workflow.subprocesses.values()):
        tasks = wf.tasks
        for key, task in tasks.items():
            if task.id is not key and task.id == key:
                task.id = key
        for task in tasks.values():
            parent = tasks.get(task._parent) if task._parent is not None else None
            if parent is not None:
                task._parent = parent.id
            children = task._children
            for index, child_id in enumerate(children):
                child = tasks.get(child_id)
                if child is not None:
                    children[index] = child.id
