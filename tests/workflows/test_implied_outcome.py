"""The outcome the result report (提交办结报告) starts from, read from the case's path."""

from __future__ import annotations

import pytest

from workflows.library.contract import implied_outcome


@pytest.mark.parametrize(("data", "outcome"), [
    ({"signing_outcome": "signed", "performed": "performed"}, "R1"),
    ({"signing_outcome": "signed", "performed_early": "paid"}, "R1"),     # 记录已付款
    ({"agreement_form": "oral", "performed": "performed"}, "R1"),
    ({"signing_outcome": "signed", "performed": "not_performed"}, None),  # urged, not performed
    ({}, None),
])
def test_an_agreement_performed_implies_agreement_reached(data, outcome):
    assert implied_outcome(data) == outcome


@pytest.mark.parametrize(("data", "outcome"), [
    ({"consent": "refused", "legal_route_notice": "可申请仲裁"}, "R4"),           # 不予调解
    ({"consent": "both_agree", "session_next": "no_agreement",
      "termination_reason": "双方分歧过大"}, "R5"),                                # 调解不成
    ({"signing_outcome": "refused", "termination_reason": "一方拒签"}, "R5"),
    ({"termination_reason": "要求终止", "legal_route": "labour_award"}, "R5"),     # still 调解不成
    ({"consent": "both_agree", "session_next": "continue"}, None),
])
def test_a_mediation_that_did_not_reach_agreement_implies_its_outcome(data, outcome):
    assert implied_outcome(data) == outcome


@pytest.mark.parametrize(("data", "outcome"), [
    ({"handling": "generic", "joint_outcome": "resolved"}, "R2"),
    ({"handling": "generic", "joint_outcome": "partly_resolved"}, None),
    ({"handling": "generic", "joint_outcome": "unresolved"}, None),
    # resolved before a mediation: the mediation does not take place (no consent asked)
    ({"handling": "mediation", "joint_outcome": "resolved"}, "R2"),
    # a mediation after a joint dispatch (an earlier version's path) or inside the labour
    # process: the joint dispatch is not the handling's end
    ({"handling": "mediation", "joint_outcome": "resolved", "consent": "both_agree"}, None),
    ({"handling": "labour", "joint_outcome": "resolved"}, None),
])
def test_a_joint_handling_concluded_resolved_implies_administrative_action(data, outcome):
    assert implied_outcome(data) == outcome


def test_a_path_pointing_two_ways_implies_nothing():
    """Data of an earlier round (a report sent back, handled again) may imply another outcome
    than the latest round: then the handler chooses."""
    assert implied_outcome({"signing_outcome": "signed", "performed": "performed",
                            "termination_reason": "第二轮调解不成"}) is None
