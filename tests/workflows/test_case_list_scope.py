"""The case list asks the caller's scope part by part (a UNION: the unit's subtree, a task of
mine, a case I worked on, ...): every user must see exactly the cases the one-OR scope
(``visible_cases``) gives them, each once, newest first, on generated cases of every kind."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from sqlalchemy import or_, select, update

from tests.district_fixtures import build_district
from tests.factories import make_user
from tests.web.conftest import deploy_test_process, seed_reference
from workflows.access.policy import scope_parts, unit_street, visible_cases
from workflows.cases.listing import CaseQuery, list_page
from workflows.core.errors import NotPermitted
from workflows.core.settings import ROOT
from workflows.models import Case, CaseParticipant, Department, OpenTask, path_ids

sys.path.insert(0, str(ROOT))
from benchmarks.generate import generate  # noqa: E402

USERS = (   # (name, role, unit): every tier, and each kind of scope
    ("district_supervisor", "supervisor", "ZZ"),
    ("street_supervisor", "supervisor", "QS-ZZ"),
    ("street_triage", "triage_officer", "BS-ZZ"),
    ("village_triage", "triage_officer", "QS-SM-SQTJ"),
    ("district_leader", "leader", "ZZ"),
    ("street_leader", "leader", "QS-ZZ"),
    ("district_clerk", "intake_clerk", "ZZ"),
    ("street_clerk", "intake_clerk", "QS-XZ"),
    ("street_mediator", "mediator", "QS-JDTJ"),
    ("township_handler", "dept_handler", "QS-JDTJ"),
    ("street_handler", "dept_handler", "CD-GA"),
    ("auditor", "auditor", None),
)


@pytest.fixture
def generated(committed_services):
    """240 generated cases (open tasks for the users above, mediators, notices, every status),
    plus what the generator leaves out: a case worked on outside one's unit, a claimed task, a
    task drawn for named users, a case without a place and without a tier, cases not yet registered."""
    services = committed_services
    seed_reference(services)
    build_district(services)
    deploy_test_process(services)
    actors = {name: make_user(services, role, unit, username=name)
              for name, role, unit in USERS}
    generate(services, 240, seed=11, echo=lambda _line: None)
    with services.new_uow() as uow:
        session = uow.session
        ids = list(session.scalars(select(Case.id).order_by(Case.id)))
        tasks = list(session.scalars(select(OpenTask.id).order_by(OpenTask.id)))
        uid = {name: int(actor.id) for name, actor in actors.items()}
        for name, case_id in (("street_supervisor", ids[3]), ("street_mediator", ids[5]),
                              ("street_clerk", ids[7]), ("village_triage", ids[11])):
            session.add(CaseParticipant(case_id=case_id, user_id=uid[name]))
        session.execute(update(OpenTask).where(OpenTask.id == tasks[0])
                        .values(claimed_by=uid["street_handler"]))
        session.execute(update(OpenTask).where(OpenTask.id == tasks[1]).values(
            candidate_users=f",{uid['street_leader']},{uid['village_triage']},"))
        session.execute(update(Case).where(Case.id.in_(ids[20:23]))
                        .values(place_id=None, place_path=None))
        session.execute(update(Case).where(Case.id.in_(ids[21:25])).values(tier=None))
        session.execute(update(Case).where(Case.id.in_(ids[30:32])).values(registered_at=None))
        uow.commit()
    return services, actors


def _one_or(services, actor) -> list[str]:
    with services.session_factory() as session:
        return list(session.scalars(select(Case.case_no).where(visible_cases(actor))
                                    .order_by(Case.registered_at.desc(), Case.id.desc())))


def _listed(services, actor, **filters) -> tuple[list[str], int, bool]:
    first = list_page(services.new_uow(), actor, CaseQuery(per_page=100, **filters))
    codes = [row["case_no"] for row in first.rows]
    for page in range(2, first.pages + 1):
        codes += [row["case_no"] for row in list_page(
            services.new_uow(), actor, CaseQuery(per_page=100, page=page, **filters)).rows]
    return codes, first.total, first.exact


def test_each_user_lists_exactly_the_cases_of_their_scope(generated):
    services, actors = generated
    sizes = {}
    for name, actor in actors.items():
        expected = _one_or(services, actor)
        try:
            codes, total, exact = _listed(services, actor)
        except NotPermitted:
            assert expected == [], name
            continue
        assert codes == expected, name           # the same cases, each once, newest first
        assert (total, exact) == (len(expected), True), name
        sizes[name] = len(expected)
    # the fixture means something: scopes of different sizes, none empty but the unit-less
    assert sizes["auditor"] == sizes["district_supervisor"] > sizes["street_supervisor"] > 0
    assert 0 < sizes["street_mediator"] < sizes["street_supervisor"]
    assert min(sizes.values()) > 0, sizes


def test_filters_narrow_every_part_of_the_scope_alike(generated):
    services, actors = generated
    for name in ("street_supervisor", "district_leader", "street_handler", "village_triage"):
        actor = actors[name]
        for filters in ({"status": "closed"}, {"open_only": True}, {"category": "labour"}):
            with services.session_factory() as session:
                column, value = next(iter(filters.items()))
                condition = (Case.status != "closed" if column == "open_only"
                             else getattr(Case, column) == value)
                expected = list(session.scalars(
                    select(Case.case_no).where(visible_cases(actor), condition)
                    .order_by(Case.registered_at.desc(), Case.id.desc())))
            codes, total, _exact = _listed(services, actor, **filters)
            assert codes == expected and total == len(expected), (name, filters)


def test_a_bounded_count_over_several_parts_stays_a_lower_bound(generated, monkeypatch):
    from workflows.cases import listing
    services, actors = generated
    monkeypatch.setattr(listing, "COUNT_BOUND", 5)
    monkeypatch.setattr(listing, "PAGES_AHEAD", 0)
    actor = actors["street_supervisor"]
    seen = len(_one_or(services, actor))
    page = list_page(services.new_uow(), actor, CaseQuery(per_page=2))
    assert (page.total, page.exact, len(page.rows)) == (5, False, 2)
    page = list_page(services.new_uow(), actor, CaseQuery(per_page=100))
    assert (page.total, page.exact) == (seen, True)     # the bound grows with the page size


@pytest.mark.parametrize("walk", [200, 0])
def test_beyond_the_bound_a_search_pages_the_newest_matches_of_every_part(
        generated, monkeypatch, walk):
    """Beyond the bound each unit part walks its newest cases checking the text, each own part
    checks its few; a walk too short for the page (walk 0 here) asks again without a limit."""
    from workflows.cases import listing, search
    services, actors = generated
    monkeypatch.setattr(listing, "COUNT_BOUND", 4)
    monkeypatch.setattr(listing, "PAGES_AHEAD", 0)
    monkeypatch.setattr(listing, "WALK", walk)
    monkeypatch.setattr(listing, "WALK_AT_LEAST", walk)
    with services.session_factory() as session:    # the commonest pair of characters
        pairs = Counter(text[i:i + 2] for text in session.scalars(select(Case.summary))
                        for i in range(len(text) - 1) if text[i:i + 2].isalpha())
    word = pairs.most_common(1)[0][0]
    dense = 0
    for name in ("district_supervisor", "street_supervisor", "district_leader", "street_clerk"):
        actor = actors[name]
        with services.new_uow() as uow:
            expected = list(uow.session.scalars(
                select(Case.case_no).where(visible_cases(actor), search.matches(uow, word))
                .order_by(Case.registered_at.desc(), Case.id.desc())))
        for page in (1, 2):
            found = list_page(services.new_uow(), actor, CaseQuery(q=word, per_page=2, page=page))
            codes = [row["case_no"] for row in found.rows]
            assert codes == expected[(page - 1) * 2:page * 2], (name, word, page)
            if len(expected) > found.total:
                assert not found.exact
                dense += 1
    assert dense >= 4       # the path beyond the bound was taken


def test_the_street_a_unit_names_holds_every_case_of_its_unit_parts(generated):
    """The list adds "in street S" to the unit's parts on PostgreSQL (its index range): that must
    never drop a case, so every case of those parts lies in that street."""
    services, actors = generated
    named = {}
    with services.session_factory() as session:
        for name, actor in actors.items():
            tier = session.scalar(select(Department.tier).where(
                Department.id == actor.department_id)) if actor.department_id else None
            street = unit_street(actor, tier)
            named[name] = street
            units, _own = scope_parts(actor, split=True, unit_tier=tier)
            if street is None or not units:
                continue
            paths = list(session.scalars(select(Case.place_path).where(or_(*units))))
            assert paths and {path_ids(path)[1] for path in paths} == {int(street)}, name
    assert named["district_supervisor"] is None and named["auditor"] is None
    assert named["street_supervisor"] == named["village_triage"] == named["street_leader"]
    assert named["street_triage"] not in (None, named["street_supervisor"])
