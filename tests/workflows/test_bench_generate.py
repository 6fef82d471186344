"""``jiefen bench generate``: bulk cases that lists, searches and audit verification accept."""

from __future__ import annotations

import sys

from sqlalchemy import func, select

from engine.crypto import field_aad
from tests.district_fixtures import build_district
from tests.web.conftest import deploy_test_process, seed_reference
from workflows.audit.log import verify_chains
from workflows.cases.listing import CaseQuery, list_page
from workflows.core.actors import SYSTEM
from workflows.core.settings import ROOT
from workflows.models import Case, CaseNumber, CaseParty, OpenTask, Party, WorkOrder

sys.path.insert(0, str(ROOT))
from benchmarks.generate import generate  # noqa: E402


def test_generated_cases_are_listed_searched_and_verify(committed_services):
    services = committed_services
    seed_reference(services)
    build_district(services)
    deploy_test_process(services)
    figures = generate(services, 120, seed=7, echo=lambda _line: None)
    assert figures["cases"] == 120
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 120
        statuses = set(session.scalars(select(Case.status)))
        assert {"closed", "in_handling"} <= statuses and len(statuses) >= 5
        assert session.scalar(select(func.count()).select_from(WorkOrder)) > 60
        assert session.scalar(select(func.count()).select_from(OpenTask)) > 5
        report = verify_chains(session, services.keyring, objects=True)
        assert report.ok, report.breaks[:3]
        assert report.events > 120
        last = session.scalar(select(func.max(CaseNumber.last_no)))
        assert last == max(int(c[8:]) for c in session.scalars(select(Case.case_no)))
        case = session.scalars(select(Case).order_by(Case.id)).first()
        party = session.get(Party, session.scalar(select(CaseParty.party_id).where(
            CaseParty.case_id == case.id)))
        id_number = services.cipher.decrypt(party.id_number_enc,
                                            aad=field_aad("party", "id_number_enc", party.id))
        word = case.summary[2:4]
    found = list_page(services.new_uow(), SYSTEM, CaseQuery(q=id_number, per_page=100))
    assert case.case_no in [row["case_no"] for row in found.rows]
    found = list_page(services.new_uow(), SYSTEM, CaseQuery(q=word, per_page=100))
    assert case.case_no in [row["case_no"] for row in found.rows]


def test_a_second_run_continues_codes_and_ids(committed_services):
    services = committed_services
    seed_reference(services)
    build_district(services)
    deploy_test_process(services)
    generate(services, 30, seed=1, echo=lambda _line: None)
    generate(services, 30, seed=2, workers=2, echo=lambda _line: None)   # PostgreSQL: 2 processes
    with services.session_factory() as session:
        codes = list(session.scalars(select(Case.case_no)))
        assert len(codes) == len(set(codes)) == 60
        assert verify_chains(session, services.keyring, objects=True).ok


def test_a_history_is_closed_cases_with_their_rollups(committed_services):
    """The demo's year: closed cases only (nothing lands in an inbox) and the cockpit's rollups
    rebuilt over them, equal to the case queries."""
    from datetime import date

    from workflows.models.rollups import RollupCase
    from workflows.reports import kpi_cases as kc
    from workflows.reports import kpis
    services = committed_services
    seed_reference(services)
    build_district(services)
    deploy_test_process(services)
    generate(services, 60, seed=3, echo=lambda _line: None, history=True)
    today = services.clock.now().date()
    period = kc.Period.of(date(today.year - 1, 1, 1), today, services.settings.timezone)
    with services.session_factory() as session:
        assert set(session.scalars(select(Case.status))) == {"closed"}
        assert session.scalar(select(func.count()).select_from(OpenTask)) == 0
        assert session.scalar(select(func.sum(RollupCase.received)).where(
            RollupCase.grain == "d")) == 60
        rolled = kpis._rollup_figures(session, period, kc.Scope())
        direct = kpis._case_figures(session, period, kc.Scope())
        assert [(round(f.numerator or 0, 3), f.denominator, f.value) for f in direct.values()] \
            == [(round(rolled[k].numerator or 0, 3), rolled[k].denominator, rolled[k].value)
                for k in direct]
