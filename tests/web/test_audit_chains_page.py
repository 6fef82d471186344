"""The auditors' chain page: incremental by default, full on request, and what each checked."""

from __future__ import annotations

import pytest

from tests.audit_support import CaseDriver, deploy
from workflows.audit.verification import run_verification
from workflows.core.actors import SYSTEM


@pytest.mark.parametrize("full", [False, True])
def test_the_auditors_page_says_what_it_checked(as_role, services, full):
    deploy(services, "simple.bpmn")
    CaseDriver(services, "TEST-P-001", "simple").open()
    run_verification(services, SYSTEM)
    client = as_role("auditor")

    page = client.get("/audit/chains" + ("?full=1" if full else "")).get_data(as_text=True)

    assert 'data-ok="1"' in page
    if full:
        assert "全量核验：" in page and 'data-testid="chain-last-run"' not in page
    else:
        assert "增量核验：" in page and "上次保存的核验" in page and "全量，" in page
