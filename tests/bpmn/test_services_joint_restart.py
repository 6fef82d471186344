"""A joint dispatch whose co-orders outlive the process that dispatched them (a restart, another
worker, the spec cache dropping the version): every order's result still reaches the lead, the
case never waits with no open task, and cases stopped so before the fix are moved on by
``jiefen merge-results`` with a history that still replays."""

from __future__ import annotations

import pytest

from tests.bpmn.test_services_general import local
from tests.cli_support import jiefen
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework.steps import cases_with_lost_results, merge_lost_results

UNITS = ("SJ", "JD", "SQTJ")   # co-units of a property_collective case, in dispatch order


def joint_case(services, clock) -> Walk:
    """C02 of the demo: 电梯停运, 住建 leads, three co-units each with an order to sign off."""
    clock.set(local(2025, 7, 4, 8, 40))
    walk = Walk.ready(services, clock)
    walk.intake(channel="hotline_12345", category="property_collective", people_count=62,
                summary="两部电梯停运两周", description="锦绣家园3栋两部电梯已停运两周",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678")])
    walk.do("register", category="property_collective", urgency="general", people_count="62",
            summary="两部电梯停运两周")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系业主代表")
    assert sorted(t["dept"] for t in walk.open() if t["bpmn_id"] == "co_sign_off") == sorted(UNITS)
    return walk


@pytest.fixture
def walk(services, clock, fresh_compiles) -> Walk:
    return joint_case(services, clock)


def restart(services) -> None:
    """What a fresh server process holds: no compiled specs, no parsed states (with the fixture
    ``fresh_compiles`` the specs are compiled anew, not taken from the run's shared bundles)."""
    services.specs._cache.clear()
    services.instances.clear()


def done(walk: Walk, unit: str) -> None:
    walk.do("co_sign_off", unit, co_sign_off_decision="accept")
    walk.do("co_handle", unit, co_result="已按分工办理", co_result_status="done")


def returned(walk: Walk, unit: str, review: str = "accept_return") -> None:
    walk.do("co_sign_off", unit, co_sign_off_decision="return", co_return_reason="非本单位职责",
            co_return_basis="职责清单")
    walk.do("review_co_return", co_return_review=review, co_return_review_note="已核对职责清单")


def armed_timers(services, walk: Walk) -> list:
    from workflows.cases.lookup import find_case

    uow = services.new_uow()
    with uow:
        return uow.load_instance(find_case(uow.session, walk.case_no).workflow_instance_id) \
            .armed_timers()


def lead_sees(walk: Walk) -> list[str]:
    assert walk.ids() == ["lead_consolidate"]
    return walk.data()["co_decisions"]


@pytest.mark.parametrize("order", ["return_first", "return_between", "return_last",
                                   "return_reviewed_last"])
def test_orders_finished_after_a_restart_reach_the_lead(services, walk, order):
    restart(services)
    if order == "return_first":
        returned(walk, "JD")
        done(walk, "SJ")
        done(walk, "SQTJ")
        expected = ["return", "accept", "accept"]
    elif order == "return_between":
        done(walk, "SJ")
        returned(walk, "JD")
        done(walk, "SQTJ")
        expected = ["accept", "return", "accept"]
    elif order == "return_last":
        done(walk, "SJ")
        done(walk, "SQTJ")
        returned(walk, "JD")
        expected = ["accept", "accept", "return"]
    else:   # sent back before the others finish, the triage officer accepts it after them
        walk.do("co_sign_off", "JD", co_sign_off_decision="return", co_return_reason="非本单位职责",
                co_return_basis="职责清单")
        done(walk, "SJ")
        done(walk, "SQTJ")
        restart(services)
        walk.do("review_co_return", co_return_review="accept_return", co_return_review_note="成立")
        expected = ["accept", "accept", "return"]
    assert lead_sees(walk) == expected
    assert ("JD", "co", 1, "returned") in walk.orders()
    assert walk.replays().startswith("verified")


def test_a_rejected_return_after_a_restart_goes_back_and_then_reaches_the_lead(services, walk):
    done(walk, "SJ")
    restart(services)
    returned(walk, "JD", review="reject_return")
    assert walk.task("co_sign_off", "JD")
    done(walk, "JD")
    restart(services)
    done(walk, "SQTJ")
    assert lead_sees(walk) == ["accept", "accept", "accept"]
    assert walk.replays().startswith("verified")


def test_a_case_stopped_before_the_fix_is_moved_on_and_still_replays(committed_services, clock,
                                                                     fresh_compiles, monkeypatch):
    """The demo's JF-2026-000003 as it was: one order done, then a restart with specs compiled
    the old way (multi-instance steps unwired), a return accepted and the last order done: no
    open task, no timer. ``jiefen merge-results`` takes the lost results in and the lead
    consolidates; the replay withholds the lost results until that event and verifies it all."""
    services = committed_services
    walk = joint_case(services, clock)
    done(walk, "SJ")
    with monkeypatch.context() as old:
        old.setattr("engine.bpmn_parser.wire_loop_merges", lambda spec: None)
        restart(services)
        returned(walk, "JD")
        done(walk, "SQTJ")
        assert walk.ids() == [] and walk.summary()["status"] != "closed"
        assert armed_timers(services, walk) == []
        assert walk.orders()[1:] == [("SJ", "co", 1, "done"), ("JD", "co", 1, "returned"),
                                     ("SQTJ", "co", 1, "done")]
    restart(services)
    assert walk.replays().startswith("diverged")   # the record holds the lost merges
    env = {"DATABASE_URL": services.settings.database,
           "JIEFEN_KEYS_FILE": str(services.settings.keys_path),
           "JIEFEN_INSTANCE_PATH": str(services.settings.instance_path)}
    listed = jiefen(env, "merge-results", "--all", "--dry-run")
    assert listed.exit_code == 0 and listed.stdout.splitlines()[0] == walk.case_no, listed.stderr
    assert walk.ids() == []                         # a dry run changes nothing
    moved = jiefen(env, "merge-results", "--all")
    assert moved.exit_code == 0, moved.stderr
    assert f"{walk.case_no}: merged co_orders:JD, co_orders:SQTJ" in moved.stdout
    restart(services)
    assert lead_sees(walk) == ["accept", "return", "accept"]
    assert cases_with_lost_results(services) == []
    assert merge_lost_results(services, walk.case_no) == []   # a second run changes nothing
    assert walk.replays() == "verified: 11 events reproduce"
    for bundle in services.specs._cache.values():   # the replay withheld on specs of its own
        co_orders = bundle.spec("joint_dispatch").task_specs["co_orders"]
        assert "merge_child" not in vars(co_orders)
    assert jiefen(env, "merge-results").exit_code == 2         # neither cases nor --all
