"""Windows that the law counts from a date it names run from the date typed into a form
(`<period> from <date field>`), not from when the step is reached."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lxml import etree

from engine.bpmn_parser import normalize_timers
from engine.clock import FrozenClock, use_clock
from engine.deadlines import SHANGHAI, WorkingCalendar, check_spec
from engine.errors import BpmnValidationError
from engine.script_engine import make_script_engine
from engine.specs import compile_bundle
from tests.bpmn.helpers import co_orders_done, contact, local, sign_off
from tests.bpmn.test_expropriation_dispute import expropriation_case
from tests.bpmn.test_people_mediation import (
    consent_and_assign,
    neighbour_mediation,
    written_agreement,
)
from workflows.casework.tasks import validate
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.core.settings import Settings

JC_WINDOW, JC_REMINDERS = "司法确认申请期届满", ("司法确认提醒（第20日）", "司法确认提醒（第27日）")


def shanghai(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def signed_on(typed: str, *, at: datetime):
    """A written agreement with a judicial-confirmation intent, signed at ``at`` with the
    agreement's date typed as ``typed``."""
    d = neighbour_mediation()
    consent_and_assign(d)
    written_agreement(d, jc=True)
    d.until(at)
    d.complete("sign_agreement", signing_outcome="signed", parties_signed="true", mediator_signed="true",
               committee_sealed="true", agreement_effective_date=typed)
    return d


def test_judicial_confirmation_runs_from_the_agreement_date_not_from_the_step():
    d = signed_on("2025-03-10", at=local(2025, 3, 20, 15, 0))
    timers = d.timers()
    assert timers[JC_WINDOW] == shanghai(2025, 4, 10), "30 days from Mon 03-10 end Wed 04-09 24:00"
    assert [timers[name] for name in JC_REMINDERS] == [shanghai(2025, 3, 30, 9), shanghai(2025, 4, 6, 9)]


def test_window_ends_at_its_last_minute_and_then_lapses():
    d = signed_on("2025-03-10", at=local(2025, 3, 20, 15, 0))
    d.until(local(2025, 4, 9, 23, 59))
    assert d.ready() == ["prepare_jc"] and len(d.notified("jc_window_reminder")) == 2
    d.until(local(2025, 4, 10, 0, 1))
    assert "prepare_jc" not in d.ready() and "履行期限" in d.timers(), "lapsed: parties may still sue"


def test_an_agreement_date_long_past_means_the_window_had_already_passed():
    d = signed_on("2025-02-01", at=local(2025, 3, 20, 15, 0))
    d.fire()
    assert "prepare_jc" not in d.ready(), "30 days from 02-01 ended on 03-03 (a Monday)"
    assert len(d.notified("jc_window_reminder")) == 2


def test_a_window_ending_in_a_holiday_moves_to_the_next_working_day():
    d = signed_on("2025-09-05", at=local(2025, 9, 12, 10, 0))
    assert d.timers()[JC_WINDOW] == shanghai(2025, 10, 10), \
        "day 30 is 10-05, inside National Day (10-01..10-08): extended to Thu 10-09"


def test_a_window_ending_on_a_make_up_working_day_is_not_extended():
    d = signed_on("2025-09-11", at=local(2025, 9, 12, 10, 0))
    assert d.timers()[JC_WINDOW] == shanghai(2025, 10, 12), "day 30 is Sat 10-11, a make-up working day"


def test_expropriation_windows_count_from_the_key_date_or_from_the_step_without_one():
    typed = expropriation_case(urgency="general")
    untyped = expropriation_case(urgency="general")
    for d, key_date in ((typed, "2025-05-12"), (untyped, "")):
        sign_off(d)
        contact(d)
        form = {"expropriation_stage": "compensation_decision", "red_flag_forced_relocation": "false",
                    "red_flag_blockade": "false"}
        if key_date:
            form["key_date"] = key_date
        d.complete("detect_stage", **form)
        co_orders_done(d)
        d.complete("lead_consolidate", joint_result="已释明", joint_outcome="partly_resolved")
    assert typed.timers()["行政复议期限"] == shanghai(2025, 7, 12), \
        "60 days from 05-12 end Fri 07-11 24:00 (T-24)"
    assert typed.timers()["行政诉讼期限"] == shanghai(2025, 11, 13), "6 months from 05-12 (T-26)"
    reached = untyped.clock.now().astimezone(SHANGHAI).date()
    assert untyped.timers()["行政复议期限"] == WorkingCalendar().statutory_days(reached, 60)


def test_date_typed_ahead_or_before_the_floor_is_refused_in_chinese():
    d = neighbour_mediation()
    consent_and_assign(d)
    written_agreement(d, jc=True)
    view = d.task("sign_agreement")
    now = datetime(2025, 3, 3, 2, 20, tzinfo=UTC)
    base = {"signing_outcome": "signed", "parties_signed": "true", "mediator_signed": "true", "committee_sealed": "true"}
    for typed, code in (("2025-03-04", ErrorCode.DATE_IN_FUTURE), ("1999-12-31", ErrorCode.DATE_BEFORE_FLOOR)):
        with pytest.raises(InvalidInput) as refused:
            validate(view, {**base, "agreement_effective_date": typed}, now=now, settings=Settings())
        assert refused.value.field_errors["agreement_effective_date"].code == code


def _timer_xml(value: str) -> etree._Element:
    return etree.fromstring(
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
        '<boundaryEvent id="t"><timerEventDefinition id="t_def">'
        f'<timeDuration>{value}</timeDuration></timerEventDefinition></boundaryEvent>'
        '</process></definitions>')


@pytest.mark.parametrize("value, normalized", [
    ("statutory_days(30) from agreement_date", "due_from('statutory_days(30)', 'agreement_date')"),
    ("working_days(5)  from  accepted_on", "due_from('working_days(5)', 'accepted_on')"),
    ("handling_deadline from accepted_on", "due_from(handling_deadline, 'accepted_on')"),
    ("due_from('P20DT9H', 'x')", "due_from('P20DT9H', 'x')"),
])
def test_from_is_normalized_to_a_typed_start(value, normalized):
    root = _timer_xml(value)
    normalize_timers(root, "p.bpmn")
    assert root.find(".//{*}timeDate").text == normalized


@pytest.mark.parametrize("value", ["statutory_days(30) from 2025-03-01", "P2H from x y", "P2H frm x"])
def test_a_malformed_from_is_refused(value):
    with pytest.raises(Exception, match="from <date field>"):
        normalize_timers(_timer_xml(value), "p.bpmn")


def _due_from(spec: str, data: dict, now: datetime) -> datetime:
    engine = make_script_engine(WorkingCalendar())
    with use_clock(FrozenClock(now)):
        return datetime.fromisoformat(engine.environment.evaluate(f"due_from({spec!r}, 'typed')", data))


def test_working_days_from_a_typed_date_skip_holidays_and_count_make_up_days():
    later = datetime(2025, 11, 1, tzinfo=UTC)
    assert _due_from("working_days(2)", {"typed": "2025-09-30"}, later) == shanghai(2025, 10, 11), \
        "Oct 1-8 off: Oct 9 = 1, Oct 10 = 2"
    assert _due_from("working_days(2)", {"typed": "2025-10-09"}, later) == shanghai(2025, 10, 12), \
        "Oct 10 = 1, Sat Oct 11 (make-up working day) = 2"


def test_an_empty_typed_date_counts_from_now_and_rubbish_is_an_error():
    now = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    assert _due_from("statutory_days(1)", {"typed": ""}, now) == shanghai(2025, 3, 5)
    assert _due_from("statutory_days(1)", {}, now) == shanghai(2025, 3, 5)
    with pytest.raises(Exception, match="起算日期无法识别"):
        _due_from("statutory_days(1)", {"typed": "三月一日"}, now)


def test_deploy_checks_the_spec_and_warns_about_an_unknown_date_field():
    process = ('<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
               'id="d" targetNamespace="t"><bpmn:process id="p" isExecutable="true">'
               '<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="w" name="等">'
               '<bpmn:documentation>T-03 test</bpmn:documentation>'
               '<bpmn:timerEventDefinition id="w_def"><bpmn:timeDuration>{}</bpmn:timeDuration>'
               '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:endEvent id="e"/>'
               '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="w"/>'
               '<bpmn:sequenceFlow id="f2" sourceRef="w" targetRef="e"/></bpmn:process></bpmn:definitions>')
    bundle = compile_bundle({"p.bpmn": process.format("statutory_days(30) from nowhere_date")},
                            check_spec=check_spec)
    assert any("nowhere_date" in w.message for w in bundle.warnings)
    with pytest.raises(BpmnValidationError):
        compile_bundle({"p.bpmn": process.format("statutory_days(0) from nowhere_date")}, check_spec=check_spec)


def test_typed_start_is_the_start_of_the_local_day():
    from engine.script_engine import typed_start
    assert typed_start("2025-03-10", SHANGHAI) == shanghai(2025, 3, 10)
    assert typed_start(None, SHANGHAI) is None
    assert WorkingCalendar().statutory_days(date(2025, 3, 10), 30) == shanghai(2025, 4, 10)
