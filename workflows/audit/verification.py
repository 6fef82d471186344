"""A verification run of the audit chains, full or incremental, and what it leaves behind: the
signed verified positions (so the next incremental run starts there) and an ``audit_verified``
event in the system chain saying what was checked and what was found.

Who runs what: ``jiefen audit verify`` (full by default, ``--incremental``), the scheduler's
nightly check (incremental), the auditors' page (incremental, read-only; full on request).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from workflows.audit.bulk_verify import save_positions, verify_since_last
from workflows.audit.log import AuditAction, VerifyReport, verify_chains
from workflows.core.actors import Actor

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services


def run_verification(services: Services, actor: Actor, *, incremental: bool = False,
                     workers: int | None = None, shipped: Iterable[tuple[str, list[str]]] = (),
                     save: bool = True) -> VerifyReport:
    """Verify (every chain, or only what was appended since the verified positions); with
    ``save``, sign the positions of the chains found intact and record the run."""
    with services.session_factory() as session:
        if incremental:
            part = verify_since_last(session, services.keyring)
            report = VerifyReport(chains=part.chains, events=part.events, breaks=part.breaks,
                                  positions=part.positions)
        else:
            report = verify_chains(session, services.keyring, shipped=shipped, objects=True,
                                   workers=workers)
    if save:
        with services.new_uow() as uow:
            save_positions(uow.session, services.keyring, report.positions, services.clock.now())
            uow.audit.record(AuditAction.AUDIT_VERIFIED, actor, object_type="audit",
                             mode="incremental" if incremental else "full", chains=report.chains,
                             events=report.events, breaks=len(report.breaks),
                             first_break=str(report.breaks[0]) if report.breaks else None)
            uow.commit()
    return report
