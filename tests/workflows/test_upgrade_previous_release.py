"""Upgrading a database the previous release created with its demo data: departments become
district-level units of their own kind, users and cases keep their units, every audit chain
still verifies and every case replays to its stored state.

The fixture is that release's `jiefen demo` database (SQLite, gzipped) with its demo keys."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import FrozenClock
from workflows.audit.log import verify_chains
from workflows.core.schema import upgrade
from workflows.core.settings import Settings
from workflows.models import Case, Department, Place, User
from workflows.replay.case_replay import replay_case
from workflows.runtime.bootstrap import bootstrap

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "previous_release"


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("previous_release")
    database = folder / "jiefen.sqlite3"
    with gzip.open(FIXTURE / "jiefen.sqlite3.gz") as packed, database.open("wb") as out:
        shutil.copyfileobj(packed, out)
    shutil.copy(FIXTURE / "keys.json", folder / "keys.json")
    (folder / "keys.json").chmod(0o600)  # a checkout makes it 0644; jiefen refuses such a file
    with sqlite3.connect(database) as raw:
        before = {
            "departments": raw.execute("SELECT id, code FROM department ORDER BY id").fetchall(),
            "users": raw.execute("SELECT id, department_id FROM user_account").fetchall(),
            "cases": raw.execute("SELECT case_no, lead_department_id FROM dispute_case "
                                 "ORDER BY case_no").fetchall(),
        }
    url = f"sqlite:///{database}"
    upgrade(url)
    settings = Settings.from_env(instance_path=folder, testing=True, database_url=url,
                                 secret_key="test-secret", keys_file=folder / "keys.json")
    services = bootstrap(settings, clock=FrozenClock(datetime(2026, 12, 1, tzinfo=UTC)))
    yield services, before
    services.db.dispose()


def test_each_department_becomes_a_district_level_unit_of_its_own_kind(upgraded):
    services, before = upgraded
    with services.session_factory() as session:
        units = session.execute(select(Department.id, Department.code, Department.kind,
                                       Department.place_id).order_by(Department.id)).all()
        assert session.scalar(select(Place.id)) is None
    assert [(u.id, u.code) for u in units] == before["departments"]
    assert all(u.kind == u.code and u.place_id is None for u in units)


def test_users_and_cases_keep_their_units(upgraded):
    services, before = upgraded
    with services.session_factory() as session:
        cases = session.execute(select(Case.case_no, Case.lead_department_id,
                                       Case.registered_at, Case.opened_at)
                                .order_by(Case.case_no)).all()
        after_users = sorted(session.execute(select(User.id, User.department_id)).all())
    assert after_users == sorted(before["users"])
    assert [(c.case_no, c.lead_department_id) for c in cases] == before["cases"]
    assert all(c.registered_at == c.opened_at for c in cases)


def test_every_audit_chain_still_verifies(upgraded):
    services, _ = upgraded
    with services.session_factory() as session:
        report = verify_chains(session, services.keyring)
    assert report.ok and report.chains > 1, report.breaks


def test_every_case_replays_to_its_stored_state(upgraded):
    services, before = upgraded
    results = {case_no: replay_case(services, case_no, record=False).result
               for case_no, _ in before["cases"]}
    assert results and set(results.values()) == {"verified"}, results
