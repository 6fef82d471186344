"""routing.dmn, escalation.dmn, reopen.dmn: every row is reachable and the sample cases route as specified."""

from __future__ import annotations

import pytest

from tests.bpmn.helpers import decide, first_rule, rule_ids, start_data


def case(category="other", urgency="general", people=1, emergency=False) -> dict:
    return start_data(category=category, urgency=urgency, people_count=people, emergency=emergency)


ROUTING_SAMPLES = [
    case("neighbour", emergency=True),
    case("labour_collective"),
    case("labour", people=12),
    case("labour", "urgent"),
    case("labour"),
    case("expropriation", "urgent", 23),
    case("expropriation", "urgent"),
    case("expropriation"),
    case("property_collective", "urgent"),
    case("property", "urgent", 30),
    case("property_collective", people=62),
    case("property", people=15),
    case("property", "urgent"),
    case("property"),
    case("neighbour", "urgent"),
    case("neighbour"),
    case("family", "urgent"),
    case("family"),
    case("land_contract", "urgent"),
    case("land_contract"),
    case("land_rights", "urgent"),
    case("land_rights"),
    case("noise", "urgent"),
    case("noise"),
    case("public_order", "urgent"),
    case("public_order"),
    case("petition", "urgent"),
    case("petition"),
    case("other", "urgent"),
    case("other"),
]

ESCALATION_SAMPLES = [
    {"risk_level": "red", "escalation_level": "none", "second_complaint": False},
    {"risk_level": "blue", "escalation_level": "L2", "second_complaint": False},
    {"risk_level": "blue", "escalation_level": "L1", "second_complaint": False},
    {"risk_level": "orange", "escalation_level": "L0", "second_complaint": False},
    {"risk_level": "yellow", "escalation_level": "none", "second_complaint": True},
    {"risk_level": "blue", "escalation_level": "none", "second_complaint": False},
]

REOPEN_SAMPLES = [{"risk_level": colour} for colour in ("red", "orange", "yellow", "blue")]


@pytest.mark.parametrize(("decision", "samples"), [("route_case", ROUTING_SAMPLES),
                                                   ("escalation_step", ESCALATION_SAMPLES),
                                                   ("reopen_case", REOPEN_SAMPLES)])
def test_every_rule_is_hit_by_some_input_in_table_order(decision, samples):
    assert [first_rule(decision, sample) for sample in samples] == rule_ids(decision)


def test_last_routing_rule_catches_everything():
    unknown = case("something_new")
    assert first_rule("route_case", unknown) == rule_ids("route_case")[-1]


@pytest.mark.parametrize(("sample", "expected"), [
    (case("neighbour"), ("street", "JDTJ", ["WY"], "mediation", "PT24H", "statutory_months(1)", "blue")),  # C01
    (case("property_collective", people=62),
     ("district", "ZJ", ["SJ", "JD", "SQTJ"], "mediation", "PT24H", "statutory_days(15)", "yellow")),  # C02
    (case("labour_collective", "urgent", 14),
     ("district", "RS", ["ZJ", "FY", "JR", "GH", "GA", "SF"], "labour", "PT2H", "statutory_days(15)",
      "orange")),  # C03
    (case("labour"), ("street", "JDLT", ["RS"], "labour", "PT24H", "statutory_days(15)", "blue")),  # C04
    (case("expropriation", "urgent"),
     ("district", "ZJ", ["JD", "SF", "PG", "XF"], "expropriation", "PT2H", "statutory_days(15)", "yellow")),  # C05
    (case("expropriation", "urgent", 23),
     ("district", "ZJ", ["JD", "SF", "PG", "XF", "GA"], "expropriation", "PT2H", "statutory_days(15)",
      "orange")),  # C06 (red is set by the red-flag path)
])
def test_sample_cases_route_as_the_domain_specifies(sample, expected):
    out = decide("route_case", sample)
    assert expected == (out["tier"], out["department"], out["co_departments"], out["handling"],
                        out["response_deadline"], out["handling_deadline"], out["risk_level"])


def test_escalation_keeps_the_tier_until_l2():
    assert decide("escalation_step", {**ESCALATION_SAMPLES[-1], "tier": "street"})["tier"] == "street"
    assert decide("escalation_step", {**ESCALATION_SAMPLES[2], "tier": "street"})["tier"] == "district"
