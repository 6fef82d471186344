"""A hand-counted month of cases for the KPI tests (March 2025, Beijing time), written straight
into the tables: the formulas are checked against numbers worked out by hand below.

Cases (QS = 青山镇, CD = 城东街道):

=====  =====  ==========  =======  ==================  ======  ==================================
case   place  opened      closed   outcome / rating    flags   orders
=====  =====  ==========  =======  ==================  ======  ==================================
A      QS     03-04       03-14    R1 satisfied        urgent  lead X: 2 h, on time, done on time;
                                   (rated in April)            co Y: never signed off
B      QS     03-05       03-15    R2 dissatisfied             lead X: 48 h (no limit recorded:
                                                               24 h applies, late), done late
C      CD     03-06       03-16    R4 unrated
D      CD     03-06       03-26    R3 basically_sat.   2nd
E      CD     03-07       03-17    R1 satisfied        duplicate of A (never counted)
F      CD     03-02       —        (reopened)          was closed 03-10, reopened 03-20
G      CD     02-03       02-13    R1 satisfied        (February: the previous period)
H      QS     03-20       —        open, red risk
=====  =====  ==========  =======  ==================  ======  ==================================

March: K-01 resolved/counted = A / (A, B, D) = 33.3 %; K-02 (满意+基本满意)/rated = (A, D) /
(A, B, D) = 66.7 %; K-03 = D / (A, B, C, D) = 25.0 %; K-08 = (10 + 10 + 10 + 20) / 4 = 12.5 days;
K-09 closed/received: received A, B, C, D, F, H (E duplicate), closed A, B, C, D = 66.7 %;
K-05 = (2 + 48) / 2 = 25.0 h, K-06 (urgent) = 2.0, K-07 = 48.0; K-25 on time / done = 1 / 2;
K-26 signed on time / dispatched = 1 / 4 (orders of A, B, H: 3 cases); K-04: A contacted Friday 03-07 →
Monday 03-10 = 1 working day, B same day = 0: mean 0.5.
February: K-01 = G / G = 100 %.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from workflows.models import Case, SlaClock, WorkOrder
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.rollups.catch_up import catch_up

_numbers = itertools.count(1)


def at(text: str) -> datetime:
    """'2025-03-04 10:00' in Beijing time, as UTC."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


def add_case(session, district, place: str, opened: str, *, closed: str | None = None,
             **fields) -> Case:
    case = Case(case_no=f"JF-2025-9{next(_numbers):05d}", channel="counter",
                category=fields.pop("category", "neighbour"), opened_at=at(opened),
                closed_at=at(closed) if closed else None,
                status=fields.pop("status", "closed" if closed else "in_handling"),
                place_id=district.places[place], place_path=district.paths[place], tier="street",
                **fields)
    session.add(case)
    session.flush()
    return case


def add_order(session, case: Case, unit: int, dispatched: str, *, accepted: str | None = None,
              completed: str | None = None, due: str | None = None, limit: str | None = None,
              role: str = "lead", **fields) -> WorkOrder:
    order = WorkOrder(case_id=case.id, department_id=unit, role=role, dispatched_at=at(dispatched),
                      accepted_at=at(accepted) if accepted else None,
                      completed_at=at(completed) if completed else None,
                      due_at=at(due) if due else None, **fields)
    session.add(order)
    session.flush()
    if limit:
        session.add(WorkOrderSla(work_order_id=order.id, case_id=case.id, response_policy="PT24H",
                                 response_due_at=at(limit)))
    return order


def build_month(services, district) -> dict[str, Case]:
    """The cases of the table above, committed and in the rollups (caught up, as the cockpit
    does before it reads); returns them by letter."""
    x, y = district.units["QS-JDTJ"], district.units["QS-XZ"]
    with services.new_uow() as uow:
        s = uow.session
        c: dict[str, Case] = {}
        c["A"] = add_case(s, district, "QS-SM-G1-B3", "2025-03-04 09:00", closed="2025-03-14 09:00",
                          outcome="R1", satisfaction="satisfied", urgency="urgent",
                          lead_department_id=x)
        c["B"] = add_case(s, district, "QS-SM-G1", "2025-03-05 09:00", closed="2025-03-15 09:00",
                          outcome="R2", satisfaction="dissatisfied", lead_department_id=x)
        c["C"] = add_case(s, district, "CD-XF-G2", "2025-03-06 09:00", closed="2025-03-16 09:00",
                          outcome="R4")
        c["D"] = add_case(s, district, "CD-XF-G2-B12", "2025-03-06 09:00",
                          closed="2025-03-26 09:00", outcome="R3",
                          satisfaction="basically_satisfied", second_complaint=True)
        c["E"] = add_case(s, district, "CD-XF-G2-B12", "2025-03-07 09:00",
                          closed="2025-03-17 09:00", outcome="R1", satisfaction="satisfied",
                          duplicate_of_id=c["A"].id)
        c["F"] = add_case(s, district, "CD-XF-G2", "2025-03-02 09:00", status="reopened",
                          reopened_count=1)
        c["G"] = add_case(s, district, "CD-XF-G2", "2025-02-03 09:00", closed="2025-02-13 09:00",
                          outcome="R1", satisfaction="satisfied")
        c["H"] = add_case(s, district, "QS-SM-G1-B3", "2025-03-20 09:00", risk_level="red",
                          lead_department_id=x)
        add_order(s, c["A"], x, "2025-03-05 10:00", accepted="2025-03-05 12:00",
                  completed="2025-03-10 10:00", due="2025-03-12 10:00",
                  limit="2025-03-05 12:00", light="green")
        add_order(s, c["A"], y, "2025-03-05 10:00", role="co", light="red")
        add_order(s, c["B"], x, "2025-03-06 10:00", accepted="2025-03-08 10:00",
                  completed="2025-03-14 10:00", due="2025-03-13 10:00", status="returned",
                  return_reason="不属本单位职责", light="orange")
        add_order(s, c["H"], x, "2025-03-20 10:00", light="yellow")
        for case, start, stop in ((c["A"], "2025-03-07 10:00", "2025-03-10 15:00"),
                                  (c["B"], "2025-03-10 10:00", "2025-03-10 16:00")):
            s.add(SlaClock(case_id=case.id, kind="first_contact", policy="working_days(2)",
                           started_at=at(start), due_at=at(stop), stopped_at=at(stop)))
        s.add(SlaClock(case_id=c["H"].id, kind="resolution", policy="working_days(5)",
                       started_at=at("2025-03-20 10:00"), due_at=at("2025-03-21 10:00"),
                       breached_at=at("2025-03-21 10:00")))
        s.add(SupervisionNotice(case_id=c["H"].id, department_id=x, level=1,
                                kind="supervision", reason="超期", source="sla:resolution",
                                issued_at=at("2025-03-22 10:00"), issued_by="scheduler",
                                dedupe_key=f"h-{c['H'].id}"))
        uow.commit()
    catch_up(services)
    return c


PERSONAL = "张三 13800138000"      # what an exception's message may quote


def failing_facts(monkeypatch) -> set[int]:
    """From now on the rollup facts of the cases in the returned set cannot be computed (the
    apply raises, quoting personal data); empty the set to mend them."""
    from workflows.rollups import maintain

    bad: set[int] = set()
    real = maintain.facts

    def facts(case, *args):
        if case.id in bad:
            raise ValueError(f"cannot count {PERSONAL}")
        return real(case, *args)

    monkeypatch.setattr(maintain, "facts", facts)
    return bad
