"""Reports go through the policy: rows naming cases are scoped to the reader, only
district-tier roles generate, downloads are audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import login, post
from tests.workflows import sched_support as S
from workflows.models import Case, Department
from workflows.reports import periodic as reports


def _weekly(services, clock) -> tuple[str, str, int]:
    """A weekly list with a district case and a community case (both open for 12 days)."""
    clock.set(datetime(2025, 3, 10, 1, 0, tzinfo=UTC))
    opened = datetime(2025, 2, 25, 2, 0, tzinfo=UTC)
    district = S.case(services, opened_at=opened, tier="district", category="labour")
    community = S.case(services, opened_at=opened, tier="community", category="neighbour")
    report = reports.generate(services, "weekly")
    with services.session_factory() as session:
        codes = [session.get(Case, i).case_no for i in (district, community)]
    assert {r["case_no"] for r in report.rows} == set(codes)
    return codes[0], codes[1], report.id


def _community_supervisor(services, users) -> str:
    with services.new_uow() as uow:
        uow.session.add(Department(code="T_VILLAGE", name="测试社区", tier="community",
                                   responsibilities=[]))
        uow.commit()
    return users.add("village_supervisor", "supervisor", "T_VILLAGE")


def test_a_community_supervisor_reads_only_the_rows_of_their_tier(client, services, users, clock):
    district, community, report_id = _weekly(services, clock)
    login(client, _community_supervisor(services, users))

    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    csv = client.get(f"/reports/{report_id}.csv").get_data(as_text=True)

    assert community in page and district not in page
    assert community in csv and district not in csv


def test_a_district_supervisor_reads_every_row_and_the_download_is_audited(as_role, services,
                                                                          clock):
    district, community, report_id = _weekly(services, clock)
    client = as_role("supervisor")

    csv = client.get(f"/reports/{report_id}.csv").get_data(as_text=True)

    assert district in csv and community in csv
    with services.session_factory() as session:
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report_downloaded")).all()
    assert event.actor_role == "supervisor" and '"format":"csv"' in event.payload


def test_a_leader_reads_only_the_cases_escalated_to_them(as_role, services, clock):
    district, _community, report_id = _weekly(services, clock)
    client = as_role("leader")
    assert district not in client.get(f"/reports/{report_id}").get_data(as_text=True)
    with services.new_uow() as uow:
        uow.session.scalars(select(Case).where(Case.case_no == district)).one().risk_level = "red"
        uow.commit()
    assert district in client.get(f"/reports/{report_id}").get_data(as_text=True)


def test_only_district_tier_roles_generate(client, services, users, clock, as_role):
    clock.set(datetime(2025, 4, 2, 1, 0, tzinfo=UTC))
    login(client, _community_supervisor(services, users))
    refused = post(client, "/reports/", {"kind": "weekly"})
    assert refused.status_code == 403
    with services.session_factory() as session:
        denied = session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == "access_denied")).all()
    assert any("reports.generate.tier" in p for p in denied)
    assert post(as_role("supervisor"), "/reports/", {"kind": "weekly"}).status_code == 302
