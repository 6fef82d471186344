"""Outbox rows about a case: new tasks for whoever must do them, notices to the applicants."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from workflows.models import STATUS_LABELS, Case, CaseParty, ContactPreference, OpenTask, Party

if TYPE_CHECKING:
    from workflows.runtime.unit_of_work import UnitOfWork

# a party's contact preference -> the outbox channel that reaches them (NONE: no notice)
CONTACT_CHANNELS = {str(p): str(p) for p in ContactPreference if p != ContactPreference.NONE}


def notify_new_tasks(uow: UnitOfWork, case: Case, created: list[OpenTask]) -> None:
    """One outbox row per newly opened task for its assignee or department (no personal data)."""
    for task in created:
        recipient: int | str | None
        if task.assignee_id is not None:
            kind, recipient = "user", task.assignee_id
        elif task.department_id is not None:
            kind, recipient = "department", task.department_id
        else:
            kind, recipient = "role", task.role
        if recipient is None:
            continue
        uow.outbox.add(channel="file", recipient_type=kind, recipient_id=recipient,
                       template="task_ready",
                       params={"case_no": case.case_no, "task": task.name,
                               "due_at": task.due_at.isoformat() if task.due_at else None},
                       dedupe_key=f"case:{case.id}:task_ready:{task.task_id}", case=case)


def applicants(uow: UnitOfWork, case: Case) -> list[tuple[str, str]]:
    """(party id, role) of the case's applicants."""
    links = uow.session.scalars(select(CaseParty).where(CaseParty.case_id == case.id,
                                                        CaseParty.role == "applicant"))
    return [(link.party_id, link.role) for link in links]


def notify_applicants(uow: UnitOfWork, case: Case, template: str,
                      parties: list[tuple[str, str]] | None = None) -> None:
    """Receipt / link / reopen notice to the applicants with the case code (no personal data)."""
    stamp = uow.clock.now().strftime("%Y%m%dT%H%M%S")
    for party_id, role in applicants(uow, case) if parties is None else parties:
        party = uow.session.get(Party, party_id)
        channel = CONTACT_CHANNELS.get(party.contact_preference if party else "none")
        if role != "applicant" or channel is None:
            continue
        uow.outbox.add(channel=channel, recipient_type="party", recipient_id=party_id,
                       template=template,
                       params={"case_no": case.case_no, "status": STATUS_LABELS.get(case.status)},
                       dedupe_key=f"case:{case.id}:{template}:{party_id}:{stamp}", case=case)
