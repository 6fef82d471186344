"""A mediator's upcoming sessions (我的调解安排): the booked sessions not yet over of the cases
they mediate and of the sessions they are co-mediator of, soonest first, in one query."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from workflows.access.policy import user_id
from workflows.core.actors import Actor
from workflows.mediation.booking import when_text
from workflows.models import Case, Department, MediationSession, Room, SessionStatus, User
from workflows.runtime.unit_of_work import UnitOfWork

LIMIT = 200


def upcoming_sessions(uow: UnitOfWork, actor: Actor) -> list[dict]:
    """Each booked session ahead the actor takes part in: when, where, the case, their part
    (mediator or co-mediator) and the other mediator's name."""
    uid = user_id(actor)
    if uid is None:
        return []
    mediator, co = aliased(User), aliased(User)
    query = (select(MediationSession, Case.case_no, Case.mediator_id, Room.name, Department.name,
                    mediator.display_name, co.display_name)
             .join(Case, Case.id == MediationSession.case_id)
             .outerjoin(Room, Room.id == MediationSession.room_id)
             .outerjoin(Department, Department.id == Room.unit_id)
             .outerjoin(mediator, mediator.id == Case.mediator_id)
             .outerjoin(co, co.id == MediationSession.co_mediator_id)
             .where(MediationSession.status == SessionStatus.BOOKED,
                    MediationSession.ends_at > uow.clock.now(),
                    or_(Case.mediator_id == uid, MediationSession.co_mediator_id == uid))
             .order_by(MediationSession.starts_at, MediationSession.id).limit(LIMIT))
    with uow:
        return [{"id": row.id, "case_no": case_no, "when": when_text(row.starts_at, row.ends_at),
                 "starts_at": row.starts_at, "room": room, "unit": unit,
                 "link": row.meeting_link, "mode": row.mode, "lead": mediator_id == uid,
                 "other": co_name if mediator_id == uid else lead_name}
                for row, case_no, mediator_id, room, unit, lead_name, co_name
                in uow.session.execute(query)]
