"""Parsed workflow states kept between units of work (one cache per process).

Rebuilding a SpiffWorkflow object from its JSON is the largest single cost of a step. After a
commit the unit of work hands each instance it saved to this cache with the exact text it wrote;
the next unit of work that reads the row takes the instance back only if the row's text is still
that text (string equality: a state changed by another process, by hand or by a rolled-back
write is parsed afresh). Taking removes the entry, so one instance object is never shared by two
units of work, and an instance whose step failed is never returned: it goes back only with the
next successful commit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from engine.instance import WorkflowInstance

DEFAULT_SIZE = 256


class InstanceCache:
    """Least recently saved instances, by instance id, with the state text they were saved as."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self._items: OrderedDict[int, tuple[str, WorkflowInstance]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def take(self, instance_id: int, state: str) -> WorkflowInstance | None:
        """The instance saved as ``state`` (removed from the cache), else None."""
        with self._lock:
            item = self._items.pop(instance_id, None)
        if item is None or item[0] != state:
            self.misses += 1
            return None
        self.hits += 1
        return item[1]

    def put(self, instance_id: int, state: str, instance: WorkflowInstance) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (state, instance)
            self._items.move_to_end(instance_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
