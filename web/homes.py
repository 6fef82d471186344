"""Where a user lands: the inbox, unless none of his roles works on cases' tasks; then the
workbench of his first such role (the inbox would always be empty for him)."""

from __future__ import annotations

from collections.abc import Set

WORKBENCHES = (("grid_worker", "grid.home"), ("expert", "experts.home"),
               ("auditor", "audit.index"), ("process_owner", "processes.catalogue"),
               ("admin", "directory.users"))
_ROLES = frozenset(role for role, _endpoint in WORKBENCHES)


def workbench(roles: Set[str]) -> str | None:
    """The endpoint of the user's home when he has no case work; None: the inbox is his home."""
    if not roles or not roles <= _ROLES:
        return None
    return next(endpoint for role, endpoint in WORKBENCHES if role in roles)
