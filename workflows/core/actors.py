"""Who acts: a user in one of their roles, a channel token, the scheduler, the system, a replay."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """The acting party of a service call; audit events record these fields."""

    type: str                                   # user | api | scheduler | system | replay
    id: str | None = None                       # user id (text) or token id
    username: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    department_id: int | None = None
    department_code: str | None = None
    unit_path: str | None = None                # place path of the user's unit (None: no place)
    channel: str | None = None                  # for api actors: hotline_12345, grid_app, portal
    ip: str | None = None
    session_hash: str | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role(self) -> str | None:
        """The role recorded in audit events (the most specific one held)."""
        for code in ROLE_ORDER:
            if code in self.roles:
                return code
        return None


# every Actor.type, for the words pages show for actors that are not people
ACTOR_TYPES = ("user", "api", "scheduler", "system", "replay")
ROLE_ORDER = ("admin", "auditor", "process_owner", "leader", "supervisor", "triage_officer",
              "mediator", "dept_handler", "intake_clerk", "expert")
SYSTEM = Actor(type="system", id="system", username="system")
SCHEDULER = Actor(type="scheduler", id="scheduler", username="scheduler")
