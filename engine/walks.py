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
"""

from __future__ import annotations

from collections.abc import Callable

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.task import Task

READY, WAITING = TaskState.READY, TaskState.WAITING
# the iterator's min_state for a READY filter: it does not descend below tasks under it
READY_MIN_STATE = TaskState.FUTURE if READY & TaskState.DEFINITE_MASK else TaskState.MAYBE
MAX_TASKS = 1000   # the iterator's max_depth: with no more tasks than this, no path is as deep
MAX_DEPTH = 1000   # the iterator's max_depth, for the waiting walk (it may grow the tree)
WAITING_MIN_STATE = TaskState.FUTURE if WAITING & TaskState.DEFINITE_MASK else TaskState.MAYBE


def do_engine_steps(workflow: BpmnWorkflow,
                    will_complete_task: Callable[[Task], None] | None = None) -> None:
    """``workflow.do_engine_steps(will_complete_task)`` (SpiffWorkflow 3.2.0), its walks
    replaced by ``ready_engine_tasks``."""
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
    if "create_subprocess" in vars(workflow):
        return   # given already
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
