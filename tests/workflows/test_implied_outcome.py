"""The outcome the result report (提交办结报告) starts from, read from the case's path."""

from __future__ import annotations

import pytest

from workflows.library.contract import implied_outcome


@pytest.mark.parametrize(("data", "outcome"), [
    ({"signing_outcome": "signed", "performed": "performed"}, "R1"),
    ({"signing_outcome": "signed", "performed_early": "paid"}, "R1"),     # 记录已付款
    ({"agreement_form": "oral", "performed": "performed"}, "R1"),
    ({"signing_outcome": "signed", "performed": "not_performed"}, None),  # urged, not performed
    ({"signing_outcome": "refused"}, None),
    ({}, None),
])
def test_an_agreement_performed_implies_agreement_reached(data, outcome):
    assert implied_outcome(data) == outcome
