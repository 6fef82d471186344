"""A concurrent re-delivery that loses the UNIQUE(api_token_id, key) race gets the winner's answer."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.web.test_api import BODY
from workflows.access import tokens
from workflows.core.actors import SYSTEM
from workflows.intake import api as intake_api
from workflows.models import Case


def test_loser_of_the_key_race_replays_the_winner(services, users, process, monkeypatch):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username="intake_clerk",
                                channel="hotline_12345")
    actor, token_id = tokens.verify_token(services, issued.token)
    first = intake_api.submit(services, actor, token_id=token_id, key="race", body=BODY)
    real = intake_api.stored_response
    calls = []

    def blind_first_look(*args, **kwargs):
        # the loser checked before the winner committed: its first look finds nothing
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(intake_api, "stored_response", blind_first_look)
    second = intake_api.submit(services, actor, token_id=token_id, key="race", body=BODY)
    assert second.replayed and second.body == first.body and len(calls) == 2
    with services.new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 1
