"""Anonymous API callers cannot make the app write an audit row per request."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import AuditEvent
from web.api.refusals import WINDOW_S, RefusalLog

BAD = {"Authorization": "Bearer jf_deadbeef_" + "x" * 43}


def _refusals(services) -> list[str]:
    with services.session_factory() as session:
        return list(session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == "access_denied", AuditEvent.object_type == "api_token")
            .order_by(AuditEvent.id)))  # PostgreSQL returns rows in no fixed order without it


def test_repeated_bad_tokens_write_one_event_per_minute(client, services):
    for _ in range(10):
        assert client.get("/api/v1/cases/JF-2025-000001", headers=BAD).status_code == 401
    other = client.get("/api/v1/cases/JF-2025-000001",
                       headers={"Authorization": "Bearer jf_cafebabe_" + "y" * 43})
    assert other.status_code == 401
    assert len(_refusals(services)) == 2          # one per prefix in this minute


def test_an_ip_over_the_limit_gets_429_and_one_more_event(client, services):
    limit = services.settings.api_refusals_per_minute
    codes = [client.get("/api/v1/processes", headers={
        "Authorization": f"Bearer jf_{n:08x}_" + "z" * 43}).status_code for n in range(limit + 5)]
    assert codes[:limit] == [401] * limit and set(codes[limit:]) == {429}
    rows = _refusals(services)
    assert len(rows) == limit + 1 and '"rule":"api.throttled"' in rows[-1]
    with services.session_factory() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent))
    assert total == limit + 1


def test_the_next_window_reports_what_the_last_one_folded():
    now = [0.0]
    log = RefusalLog(per_minute=100, clock=lambda: now[0])
    first = [log.note("198.51.100.1", "deadbeef") for _ in range(5)]
    now[0] += WINDOW_S
    later = log.note("198.51.100.1", "deadbeef")
    assert [d.audit for d in first] == [True, False, False, False, False]
    assert later.audit and later.folded == 4
