"""Data out: the case event log written with the change, the events API (scope, cursor, masked
personal data), department feeds and hotline callbacks through the outbox against a local HTTP
receiver that fails and recovers (signatures, retries, dead letters, order per recipient)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, text

from engine.models import OutboxMessage
from tests.web.test_api import _token, conforms
from tests.web.test_hotline import order, push
from tests.web.test_task_pages import _task_id
from workflows.cases.lookup import find_case
from workflows.casework import tasks as task_service
from workflows.casework.events import record_rating
from workflows.channels import feeds, mapping
from workflows.channels.catalogue import set_endpoint
from workflows.channels.signing import issue_secret
from workflows.core.actors import SYSTEM
from workflows.models import CaseEvent, Department, WorkOrder
from workflows.notify.delivery import deliver_pending


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that answers 503 to the first ``fail_first`` requests (or
    to all with ``always_fail``), checks each signature and keeps each event id once."""

    def __init__(self, secret: str | None = None, *, fail_first: int = 0,
                 always_fail: bool = False):
        self.secret, self.fail_first, self.always_fail = secret, fail_first, always_fail
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self.bad_signatures = 0
        receiver, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    status = receiver.handle(self.headers, raw)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def handle(self, headers, raw: bytes) -> int:
        body = json.loads(raw)
        self.requests.append(body)
        stamp, given = headers["X-Jiefen-Timestamp"], headers["X-Jiefen-Signature"]
        expected = "sha256=" + hmac.new(self.secret.encode(), stamp.encode() + b"." + raw,
                                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            self.bad_signatures += 1
            return 401
        if self.always_fail or len(self.requests) <= self.fail_first:
            return 503
        self.delivered.setdefault(headers["X-Jiefen-Event-Id"], body)
        return 200

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _unit(services, code: str) -> int:
    with services.new_uow() as uow:
        return uow.session.scalars(select(Department.id).where(Department.code == code)).one()


def _events(services, case_no: str | None = None) -> list[tuple[str, int | None]]:
    with services.new_uow() as uow:
        query = select(CaseEvent).order_by(CaseEvent.position)
        rows = uow.session.scalars(query).all()
        if case_no:
            case = find_case(uow.session, case_no)
            rows = [r for r in rows if r.case_id == case.id]
        return [(r.kind, r.unit_id) for r in rows]


def _dispatch(services, case_no: str, unit: str = "ZJ") -> int:
    """What the projection and the sign-off do to a work order, step by step."""
    zj = _unit(services, unit)
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        case.lead_department_id = zj
        row = WorkOrder(case_id=case.id, department_id=zj, round=1, role="lead",
                        status="dispatched")
        uow.session.add(row)
        uow.commit()
        return row.id


def _change(services, order_id: int, **values) -> None:
    with services.new_uow() as uow:
        row = uow.session.get(WorkOrder, order_id)
        for key, value in values.items():
            setattr(row, key, value)
        uow.commit()


def _close(services, users, case_no: str, rater=None) -> None:
    actor = users.actor
    task_service.complete_task(services.new_uow(), actor("triage_officer"), case_no=case_no,
                               task_id=_task_id(services, case_no, "triage"),
                               raw={"department": "ZJ", "triage_note": "ok"})
    task_service.complete_task(services.new_uow(), actor("dept_handler"), case_no=case_no,
                               task_id=_task_id(services, case_no, "handle"),
                               raw={"result_summary": "已修复"})
    record_rating(services.new_uow(), rater or actor("intake_clerk"), case_no=case_no,
                  rating="satisfied")


@pytest.fixture
def hotline_secret(services, process):
    mapping.save_mapping(services.new_uow(), SYSTEM, "hotline_12345", "物业服务", "property")
    return issue_secret(services.new_uow(), SYSTEM, "hotline_12345")


def test_events_are_written_with_the_change_and_only_then(services, users, case_no):
    assert _events(services, case_no) == [("registered", None)]
    order_id = _dispatch(services, case_no)
    zj = _unit(services, "ZJ")
    _change(services, order_id, status="accepted")
    _change(services, order_id, light="yellow")
    _change(services, order_id, light="orange")
    _change(services, order_id, light="red")          # already overdue: no second event
    with services.new_uow() as uow:                   # rolled back: no event
        uow.session.get(WorkOrder, order_id).status = "done"
        uow.flush()
    _close(services, users, case_no)
    kinds = _events(services, case_no)
    assert kinds[:5] == [("registered", None), ("dispatched", zj), ("signed_off", zj),
                         ("deadline_near", zj), ("overdue", zj)]
    assert ("closed", zj) in kinds and ("rated", zj) in kinds
    assert kinds.index(("closed", zj)) < len(kinds)
    with services.new_uow() as uow:
        positions = list(uow.session.scalars(select(CaseEvent.position)
                                             .order_by(CaseEvent.position)))
        assert positions == list(range(1, len(positions) + 1))


def test_the_event_log_is_append_only(services, users, case_no):
    with services.new_uow() as uow, pytest.raises(Exception, match="append-only"):
        uow.session.execute(text("UPDATE case_event SET kind = 'closed'"))
        uow.session.flush()


def test_events_api_in_scope_with_a_cursor_and_masked_names(client, services, users, case_no):
    _dispatch(services, case_no)
    handler = _token(services, "dept_handler")       # ZJ, the lead unit
    first = client.get("/api/v1/events?limit=2", headers=handler)
    page = conforms(first, "/api/v1/events")
    assert [e["kind"] for e in page["events"]] == ["registered", "dispatched"]
    assert {e["case_no"] for e in page["events"]} == {case_no}
    assert page["events"][0]["applicant"] == "周**"
    assert "周海燕" not in first.get_data(as_text=True)
    rest = client.get(f"/api/v1/events?since={page['next']}", headers=handler).get_json()
    assert rest["events"] == [] and int(rest["next"]) >= int(page["next"])
    # a case of another unit: its events are not there, and the cursor still moves past them
    users.add("gaj", "dept_handler", "GA")
    other = client.get("/api/v1/events", headers=_token(services, "gaj")).get_json()
    assert other["events"] == [] and other["next"] == rest["next"]
    bad = client.get("/api/v1/events?since=abc", headers=handler)
    assert bad.status_code == 422 and bad.get_json()["fields"]["since"]["code"] == "bad_cursor"
    admin = client.get("/api/v1/events", headers=_token(services, "admin"))
    assert admin.status_code == 403


def _feed(services, url: str, kinds=("dispatched", "overdue", "closed", "rated")) -> str:
    _code, secret = feeds.subscribe(services.new_uow(), SYSTEM, unit_code="ZJ",
                                    endpoint_url=url, kinds=list(kinds))
    assert secret is not None
    return secret


def _deliver_until_quiet(services, clock, rounds: int = 12) -> None:
    feeds.install(services)
    for _ in range(rounds):
        feeds.fan_out(services)
        deliver_pending(services)
        clock.advance(minutes=61)   # past the longest back-off


def test_a_feed_is_signed_retried_and_delivered_once_in_order(services, users, case_no, clock):
    with Receiver(fail_first=2) as receiver:
        receiver.secret = _feed(services, receiver.url)
        order_id = _dispatch(services, case_no)
        _change(services, order_id, light="orange")
        _close(services, users, case_no)
        _deliver_until_quiet(services, clock)
    assert receiver.bad_signatures == 0 and len(receiver.requests) >= 4
    kinds = [body["kind"] for body in receiver.delivered.values()]
    assert kinds == ["dispatched", "overdue", "closed", "rated"]      # in order, each once
    assert all(body["case_no"] == case_no for body in receiver.delivered.values())
    assert "周海燕" not in json.dumps(receiver.requests, ensure_ascii=False)
    with services.new_uow() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "feed").order_by(OutboxMessage.id)).all()
        # the first message took the two failures (the rest waited behind it)
        assert {r.status for r in rows} == {"sent"} and rows[0].attempts == 3


def test_a_feed_that_keeps_failing_is_dead_lettered_and_holds_the_rest(services, users,
                                                                        case_no, clock):
    with Receiver(always_fail=True) as receiver:
        receiver.secret = _feed(services, receiver.url)
        _dispatch(services, case_no)
        _close(services, users, case_no)
        _deliver_until_quiet(services, clock, rounds=10)
    with services.new_uow() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "feed").order_by(OutboxMessage.id)).all()
        assert rows[0].status == "dead"
        assert rows[0].attempts == services.settings.outbox_max_attempts
    assert receiver.delivered == {}


def test_hotline_callbacks_follow_the_case_in_order(client, services, users, clock,
                                                    hotline_secret):
    with Receiver(hotline_secret, fail_first=3) as receiver:
        set_endpoint(services.new_uow(), SYSTEM, "hotline_12345", receiver.url)
        answer = push(client, services, hotline_secret, order(services)).get_json()
        case_no = answer["case_no"]
        order_id = _dispatch(services, case_no)
        _change(services, order_id, status="accepted")
        _close(services, users, case_no, rater=SYSTEM)   # the SMS link: no clerk of that unit
        _deliver_until_quiet(services, clock)
    types = [body["type"] for body in receiver.delivered.values()]
    assert types[0] == "accepted" and types[1] == "signed_off"
    assert types[-2:] == ["result", "satisfaction"] and "progress" in types
    assert all(b["order_no"] == "12345-20250704-0038" and b["case_no"] == case_no
               for b in receiver.delivered.values())
    assert receiver.delivered[next(iter(receiver.delivered))]["linked_as"] == "new"
    assert list(receiver.delivered) == list(dict.fromkeys(
        r.get("id") for r in receiver.requests if r.get("id") in receiver.delivered))


def test_a_new_secret_signs_the_callbacks(client, services, users, clock, hotline_secret):
    with Receiver(hotline_secret) as receiver:
        set_endpoint(services.new_uow(), SYSTEM, "hotline_12345", receiver.url)
        push(client, services, hotline_secret, order(services))
        receiver.secret = issue_secret(services.new_uow(), SYSTEM, "hotline_12345")
        _deliver_until_quiet(services, clock, rounds=1)
    assert receiver.bad_signatures == 0 and len(receiver.delivered) == 1


def test_fan_out_queues_each_event_once(services, users, case_no, clock):
    _feed(services, "https://zj.example/hook")
    _dispatch(services, case_no)
    assert feeds.fan_out(services) > 0
    assert feeds.fan_out(services) == 0
    with services.new_uow() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "feed")).all()
        assert [r.template for r in rows] == ["feed_dispatched"]


def test_feed_endpoints_must_be_https(services, reference):
    from workflows.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        feeds.subscribe(services.new_uow(), SYSTEM, unit_code="ZJ",
                        endpoint_url="http://zj.example/hook", kinds=["closed"])
    assert refused.value.field_errors["endpoint_url"].code == "bad_endpoint"
    with pytest.raises(InvalidInput):
        feeds.subscribe(services.new_uow(), SYSTEM, unit_code="ZJ",
                        endpoint_url="https://zj.example/hook", kinds=["registered"])


def test_timestamps_of_events_follow_the_clock(services, users, case_no, clock):
    clock.advance(timedelta(hours=2))
    _dispatch(services, case_no)
    with services.new_uow() as uow:
        last = uow.session.scalars(select(CaseEvent).order_by(CaseEvent.position.desc())).first()
        assert last.occurred_at == clock.now()
