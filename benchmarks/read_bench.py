"""Read-side figures on a large database: each role's inbox (first page and page 200) and the
case page, below the web layer, as the real users of the generated district; p50 / p95 / max in
milliseconds, printed, never asserted.

    JIEFEN_DATABASE_URL=postgresql+psycopg://… JIEFEN_INSTANCE_PATH=… \\
        python benchmarks/read_bench.py [--repeats 20]

For each role with open tasks it takes the user who can see the most of them (their own, their
unit's group tasks, or everyone's group tasks) and times ``workflows.cases.inbox.inbox`` for
page 1 and page 200 (20 rows a page; a user with fewer pages gets their last page). Page 200 is
asked as the inbox's "next" link asks it: with the cursor of page 199's last row (``after=``),
found beforehand by one untimed request of page 199 (``--offsets`` times ``page=200``
without a cursor instead, the way older links ask it). The case
page is ``workflows.casework.views.case_page`` (masked parties, work orders, tasks, documents,
timeline, deadlines, sessions, warnings — and the audited view of the masked parties, a commit)
for a district supervisor over random generated cases. Generated cases have no workflow state:
the page shows no process position for them, so the figure leaves out the instance's
deserialisation that a case registered through the services adds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, or_, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflows.cases import inbox  # noqa: E402
from workflows.casework import views  # noqa: E402
from workflows.core.actors import Actor  # noqa: E402
from workflows.core.settings import Settings  # noqa: E402
from workflows.models import (  # noqa: E402
    Case,
    Department,
    OpenTask,
    Place,
    Role,
    User,
    UserRole,
)
from workflows.runtime.bootstrap import bootstrap  # noqa: E402

ROLES = ("intake_clerk", "triage_officer", "dept_handler", "mediator", "leader", "supervisor")


def _time(run: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)], times[-1]


def _actor(session, user_id: int, role: str) -> Actor:
    user = session.get(User, user_id)
    dept = session.get(Department, user.department_id) if user.department_id else None
    path = session.scalar(select(Place.path).where(Place.id == dept.place_id)) \
        if dept is not None and dept.place_id is not None else None
    return Actor(type="user", id=str(user.id), username=user.username, roles=frozenset({role}),
                 department_id=user.department_id, department_code=dept.code if dept else None,
                 unit_path=path)


def _busiest(session, role: str) -> tuple[int, int] | None:
    """(user id, open tasks they may act on) for the role's busiest user."""
    best = None
    users = session.execute(select(User.id, User.department_id).join(
        UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
        .where(Role.code == role)).all()
    for uid, dept in users:
        count = session.scalar(select(func.count()).select_from(OpenTask).where(
            OpenTask.role == role, or_(OpenTask.assignee_id == uid, OpenTask.claimed_by == uid,
                                       (OpenTask.assignee_id.is_(None))
                                       & (OpenTask.department_id.is_(None)
                                          | (OpenTask.department_id == dept)))))
        if best is None or count > best[1]:
            best = (uid, int(count or 0))
    return best


def _cursor_of(services, who: Actor, page: int) -> str | None:
    """The "next" cursor on page ``page - 1`` (one untimed request of all the rows before)."""
    shown = inbox.inbox(services.new_uow(), who, inbox.InboxQuery(page=page - 1))
    return shown.next_after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--offsets", action="store_true",
                        help="page 200 by its number (offset) instead of by cursor")
    args = parser.parse_args()
    services = bootstrap(Settings.from_env())
    with services.session_factory() as session:
        cases = session.scalar(select(func.count()).select_from(Case))
        people = {role: _busiest(session, role) for role in ROLES}
        actors = {role: _actor(session, found[0], role) for role, found in people.items()
                  if found}
        district_zz = session.scalar(select(Department.id).where(
            Department.kind == "ZZ", Department.tier == "district").order_by(Department.id))
        codes = list(session.scalars(select(Case.case_no).order_by(func.random()).limit(200)))
    print(f"{cases:,} cases; {args.repeats} runs each (ms)")
    print(f"{'request':<52} {'p50':>8} {'p95':>8} {'max':>8}")
    for role, who in actors.items():
        tasks = people[role][1] if people[role] else 0
        last = max(1, -(-tasks // inbox.PER_PAGE))
        for page in (1, 200):
            shown = min(page, last)
            after = None if args.offsets or shown == 1 else _cursor_of(services, who, shown)

            def run(who=who, shown=shown, after=after) -> object:
                return inbox.inbox(services.new_uow(), who,
                                   inbox.InboxQuery(page=shown, after=after))
            p50, p95, top = _time(run, args.repeats)
            label = f"inbox {role} ({tasks:,} tasks) page {shown}"
            print(f"{label:<52} {p50:8.1f} {p95:8.1f} {top:8.1f}")
    supervisor = actors.get("supervisor") or Actor(
        type="user", id="0", username="bench", roles=frozenset({"supervisor"}),
        department_id=district_zz, unit_path=None)
    rng = random.Random(1)

    def case_page() -> object:
        return views.case_page(services.new_uow(), supervisor, rng.choice(codes))
    p50, p95, top = _time(case_page, args.repeats)
    print(f"{'case page (' + supervisor.username + ', random case)':<52} {p50:8.1f} {p95:8.1f} "
          f"{top:8.1f}")


if __name__ == "__main__":
    main()
