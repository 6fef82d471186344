"""Channels on PostgreSQL with real concurrency: one 12345 order delivered by many connections at
once is one case and one answer; case events get positions in commit order, so a cursor never
skips an event whose transaction committed late."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.conftest import PG
from tests.postgres.test_api_races import _together, api  # noqa: F401 - the fixture
from workflows.cases.lookup import find_case
from workflows.channels import feeds, mapping
from workflows.channels.signing import issue_secret, sign
from workflows.core.actors import SYSTEM
from workflows.models import Case, CaseEvent, ChannelOrder, Department, Submission, WorkOrder

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]
THREADS = 20
PATH = "/api/v1/channels/hotline_12345/orders"


def test_one_order_delivered_twenty_times_at_once_is_one_case(api, committed_services):  # noqa: F811
    app, _clerk, _triage = api
    services = committed_services
    mapping.save_mapping(services.new_uow(), SYSTEM, "hotline_12345", "物业服务", "property")
    secret = issue_secret(services.new_uow(), SYSTEM, "hotline_12345")
    body = json.dumps({"order_no": "R-1", "received_at": services.clock.now().isoformat(),
                       "category_text": "物业服务", "content": "电梯停运。", "address": "无名路1号",
                       "caller": {"name": "周海燕", "phone": "13912345678"}},
                      ensure_ascii=False).encode()
    stamp = str(int(services.clock.now().timestamp()))
    headers = {"X-Jiefen-Timestamp": stamp, "X-Jiefen-Signature": sign(secret, stamp, body)}
    results = _together(app, [lambda c: c.post(PATH, data=body, headers=headers,
                                               content_type="application/json")] * THREADS)
    assert Counter(status for status, _ in results) == {201: THREADS}
    assert len({json.dumps(answer, sort_keys=True) for _, answer in results}) == 1
    with services.new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 1
        assert uow.session.scalar(select(func.count()).select_from(ChannelOrder)) == 1
        assert uow.session.scalar(select(func.count()).select_from(Submission)) == 1


def test_positions_follow_commit_order(api, committed_services):  # noqa: F811
    app, clerk, _triage = api
    services = committed_services
    client = app.test_client()
    from tests.web.test_api import BODY

    code = client.post("/api/v1/cases", json=BODY, headers=clerk).get_json()["case_no"]
    with services.new_uow() as uow:
        case_id = find_case(uow.session, code).id
        units = list(uow.session.scalars(select(Department.id).order_by(Department.id).limit(2)))
    flushed, release = threading.Event(), threading.Event()

    def slow() -> None:       # takes its id first, commits last
        with services.new_uow() as uow:
            uow.session.add(WorkOrder(case_id=case_id, department_id=units[0], round=1,
                                      role="lead", status="dispatched"))
            uow.flush()
            flushed.set()
            release.wait(30)
            uow.commit()

    thread = threading.Thread(target=slow)
    thread.start()
    assert flushed.wait(30)
    with services.new_uow() as uow:
        uow.session.add(WorkOrder(case_id=case_id, department_id=units[1], round=1, role="co",
                                  status="dispatched"))
        uow.commit()
    # the late transaction has not committed: the reader goes as far as the log is committed
    assert feeds.fan_out(services) >= 1
    release.set()
    thread.join(30)
    assert feeds.fan_out(services) == 1       # and reads the late event afterwards
    with services.new_uow() as uow:
        rows = uow.session.execute(select(CaseEvent.position, CaseEvent.unit_id).where(
            CaseEvent.kind == "dispatched").order_by(CaseEvent.position)).all()
    assert [unit for _position, unit in rows] == [units[1], units[0]]   # commit order
