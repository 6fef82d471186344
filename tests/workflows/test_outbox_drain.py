"""The outbox drain: batch after batch until nothing is due or the time budget is spent, a fixed
number of statements per batch, per-channel rate limits, and the backlog per channel."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import event, select

from engine.models import OutboxMessage
from tests.workflows import sched_support as S
from workflows.notify import delivery as N
from workflows.notify.channels import FileChannel


class Ticks:
    """A monotonic clock that moves only when told (or by ``step`` per reading)."""

    def __init__(self, step: float = 0.0):
        self.now, self.step = 100.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def filed(services, tmp_path):
    services.channels["file"] = FileChannel(tmp_path / "out.jsonl")
    return services


def _queue(services, count: int, *, channel: str = "file", recipients: int = 40,
           key: str = "drain") -> None:
    case_id = S.case(services)
    with services.new_uow() as uow:
        for number in range(count):
            uow.outbox.add(channel=channel, recipient_type="role",
                           recipient_id=f"role{number % recipients}", template="receipt",
                           params={"case_no": f"JF-{number}"}, dedupe_key=f"{key}:{number}",
                           case=case_id)
        uow.commit()


def _status(services) -> dict[str, int]:
    with services.session_factory() as session:
        rows = session.scalars(select(OutboxMessage.status)).all()
    return {status: rows.count(status) for status in set(rows)}


def test_the_drain_empties_the_queue_in_batches_in_order_per_recipient(filed):
    _queue(filed, 130)

    report = N.drain(filed, batch=50, budget=60)

    lines = filed.channels["file"].lines()
    assert (report.sent, report.claimed) == (130, 130) and _status(filed) == {"sent": 130}
    assert len(lines) == 130
    for recipient in ("role0", "role7"):
        ids = [line["outbox_id"] for line in lines if line["recipient_id"] == recipient]
        assert ids == sorted(ids) and len(ids) >= 3


def test_a_batch_costs_the_same_statements_for_ten_messages_or_two_hundred(filed):
    def statements(count: int) -> int:
        _queue(filed, count, key=f"batch{count}")
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(filed.db, "before_cursor_execute", listener)
        try:
            assert N.deliver_pending(filed, limit=500).sent == count
        finally:
            event.remove(filed.db, "before_cursor_execute", listener)
        return len(seen)

    assert statements(200) == statements(10)


def test_the_time_budget_stops_the_drain_and_the_rest_waits(filed):
    _queue(filed, 100)

    report = N.drain(filed, batch=20, budget=2.5, monotonic=Ticks(step=1.0))

    assert 0 < report.sent < 100
    assert _status(filed) == {"sent": report.sent, "pending": 100 - report.sent}


def test_a_rate_limited_channel_sends_its_share_and_the_rest_goes_on_later(filed, clock):
    filed.settings = dataclasses.replace(filed.settings, outbox_rate_limits="file=3")
    _queue(filed, 10)

    first = N.drain(filed, batch=50, budget=60, monotonic=Ticks())

    assert (first.sent, first.throttled) == (3, 7)
    assert _status(filed) == {"sent": 3, "pending": 7}
    clock.advance(seconds=2)
    second = N.drain(filed, batch=50, budget=60, monotonic=Ticks(step=0.5))
    assert second.sent >= 3 and _status(filed)["sent"] == 3 + second.sent


def test_rate_limits_that_are_not_channel_equals_rate_are_refused():
    assert N.parse_rate_limits(" sms=20, email=2.5 ") == {"sms": 20.0, "email": 2.5}
    for bad in ("sms", "sms=fast", "sms=0"):
        with pytest.raises(ValueError, match="JIEFEN_OUTBOX_RATE_LIMITS"):
            N.parse_rate_limits(bad)


def test_the_backlog_counts_waiting_due_and_dead_per_channel(filed, clock):
    _queue(filed, 5)
    _queue(filed, 2, channel="phone", key="phone")
    with filed.new_uow() as uow:
        first = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        first.status = "dead"
        later = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "phone")).first()
        later.next_attempt_at = clock.now() + N.HELD_BACK
        uow.commit()

    with filed.session_factory() as session:
        backlog = {row["channel"]: row for row in N.backlog(session, clock.now())}

    assert (backlog["file"]["waiting"], backlog["file"]["due"], backlog["file"]["dead"]) == (4, 4, 1)
    assert (backlog["phone"]["waiting"], backlog["phone"]["due"]) == (2, 1)
    assert backlog["file"]["oldest"] is not None
