"""The interface catalogue and health page (with the cockpit's rollup queue), K-12, and the
silence warning under the injectable clock."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, OutboxMessage
from tests.district_fixtures import build_district
from tests.kpi_fixtures import PERSONAL, build_month, failing_facts
from tests.web.conftest import login, post
from tests.web.test_hotline import order, push
from tests.web.test_pages_in_words import visible_text
from workflows.channels import catalogue, feeds, mapping
from workflows.channels.health import check_silence, record_interface_event
from workflows.channels.signing import issue_secret
from workflows.core.actors import SYSTEM
from workflows.models import Case, Department, Interface
from workflows.rollups.catch_up import catch_up


def _unit(services, code: str) -> int:
    with services.new_uow() as uow:
        return uow.session.scalars(select(Department.id).where(Department.code == code)).one()


def _note(services, code: str, ok: bool = True, reason: str | None = None) -> None:
    with services.new_uow() as uow:
        record_interface_event(uow, code, ok, reason)
        uow.commit()


def _silence_notices(services) -> list[tuple]:
    with services.new_uow() as uow:
        return [(m.recipient_type, m.recipient_id, m.params) for m in uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "interface_silent")
            .order_by(OutboxMessage.id))]


def test_a_silent_interface_warns_its_owner_and_the_centre_once(services, reference, clock):
    catalogue.save_interface(services.new_uow(), SYSTEM, code="iot", name="物联感知告警",
                             kind="device", direction="in", owner_unit_id=_unit(services, "ZJ"),
                             datasets=["设备告警"], status="planned", expected_interval_minutes=30)
    assert check_silence(services) == 0                  # planned, nothing heard yet
    _note(services, "iot")                               # first message: connected
    clock.advance(minutes=29)
    assert check_silence(services) == 0
    clock.advance(minutes=2)                             # 31 minutes without a message
    assert check_silence(services) == 1
    notices = _silence_notices(services)
    assert {(kind, rid) for kind, rid, _params in notices} == {
        ("department", str(_unit(services, "ZJ"))), ("role", "supervisor")}
    assert notices[0][2]["minutes"] == 31 and notices[0][2]["code"] == "iot"
    clock.advance(minutes=30)
    assert check_silence(services) == 0                  # the same silence is told once
    _note(services, "iot", False, "gateway timeout")     # a message (even a failure) ends it
    clock.advance(minutes=31)
    assert check_silence(services) == 1                  # a new silence is told again
    with services.new_uow() as uow:
        assert uow.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "interface_silent")) is not None


def test_data_sharing_rate_counts_connected_datasets(services, reference):
    with services.new_uow() as uow:
        base = catalogue.data_sharing_rate(uow.session)
    assert base == 0.0                                    # the seeded channels are planned
    for code, datasets, status in (("share_rs", ["劳动监察", "就业登记"], "connected"),
                                   ("share_ga", ["人口信息"], "planned")):
        catalogue.save_interface(services.new_uow(), SYSTEM, code=code, name=code, kind="share",
                                 direction="out", owner_unit_id=None, datasets=datasets,
                                 status=status, expected_interval_minutes=None)
    with services.new_uow() as uow:
        rate = catalogue.data_sharing_rate(uow.session)
        listed = {d for row in uow.session.scalars(select(Interface.datasets)) for d in row}
    assert rate == 2 / len(listed)


def test_the_interface_page_shows_health_and_queues(client, services, users, process, as_role,
                                                    clock):
    mapping.save_mapping(services.new_uow(), SYSTEM, "hotline_12345", "物业服务", "property")
    secret = issue_secret(services.new_uow(), SYSTEM, "hotline_12345")
    push(client, services, secret, order(services))
    push(client, services, "wrong", order(services, "X-2"))
    feeds.subscribe(services.new_uow(), SYSTEM, unit_code="ZJ",
                    endpoint_url="https://zj.example/hook", kinds=["dispatched"])
    page = as_role("supervisor").get("/channels/interfaces")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-interface="hotline_12345"' in text and 'data-interface="feed_ZJ"' in text
    assert "签名不符" in text and "数据共享率" in text
    assert 'data-testid="catalogue-form"' not in text       # editing is the admins'
    # the supervisor reads names; the code (what the catalogue form edits by) is the admins'
    seen = visible_text(text)
    assert "12345" in seen and "hotline_12345" not in seen and "接口标识" not in seen
    assert "K-12" not in seen, "the indicator by its name, not its id"
    admin = as_role("admin").get("/channels/interfaces").get_data(as_text=True)
    assert "接口标识" in visible_text(admin) and 'data-testid="interface-code"' in admin
    # the notification backlog per channel, in words
    backlog = text.split('data-testid="outbox-backlog"', 1)[1].split("</table>", 1)[0]
    assert 'data-channel="hotline_12345"' in backlog and "12345 热线回传" in backlog
    assert as_role("dept_handler").get("/channels/interfaces").status_code == 403


def test_admins_subscribe_a_feed_and_see_its_secret_once(client, services, users, as_role):
    admin = as_role("admin")
    answer = post(admin, "/channels/interfaces", {
        "action": "subscribe", "unit_code": "ZJ", "endpoint_url": "https://zj.example/hook",
        "kind-closed": "1", "kind-overdue": "1"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'data-testid="feed-secret"' in text
    with services.new_uow() as uow:
        row = uow.session.scalars(select(Interface).where(Interface.code == "feed_ZJ")).one()
        assert row.event_kinds == ["overdue", "closed"] and row.secret_enc
    bad = post(admin, "/channels/interfaces", {
        "action": "subscribe", "unit_code": "ZJ", "endpoint_url": "ftp://zj.example"})
    assert bad.status_code == 422
    again = admin.get("/channels/interfaces").get_data(as_text=True)
    assert 'data-testid="feed-secret"' not in again


def test_an_interval_that_is_not_a_number_is_refused_and_kept(client, services, users, as_role):
    """Typing 一小时 in the minutes field is an error on the field (with what was typed), not
    a catalogue entry saved silently without any silence check."""
    admin = as_role("admin")
    answer = post(admin, "/channels/interfaces", {
        "action": "catalogue", "code": "share_xf", "name": "信访数据", "owner_unit": "XF",
        "datasets": "信访件", "expected_interval_minutes": "一小时", "kind": "share",
        "direction": "in", "status": "planned"})
    text = visible_text(answer.get_data(as_text=True))
    assert answer.status_code == 422 and "应为整数" in text and "已保存" not in text
    assert 'value="一小时"' in answer.get_data(as_text=True)
    with services.new_uow() as uow:
        assert uow.session.scalars(select(Interface).where(Interface.code == "share_xf")).first() is None


def test_dead_letters_are_listed_in_words_and_can_be_sent_again(client, services, users,
                                                                case_no, as_role):
    feeds.subscribe(services.new_uow(), SYSTEM, unit_code="ZJ",
                    endpoint_url="https://zj.example/hook", kinds=["dispatched"])
    with services.new_uow() as uow:
        uow.outbox.add(channel="feed", recipient_type="interface", recipient_id=uow.session.scalar(
            select(Interface.id).where(Interface.code == "feed_ZJ")), template="feed_dispatched",
            params={"event": 1}, dedupe_key="feed:test:1")
        uow.flush()
        row = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == "feed:test:1")).one()
        row.status, row.attempts, row.last_error = "dead", 8, "HTTP 503"
        message_id = row.id
        uow.commit()
    supervisor = as_role("supervisor")
    text = supervisor.get("/channels/interfaces").get_data(as_text=True)
    assert 'data-testid="dead-letters"' in text and "事件推送：派单" in text
    assert "事件订阅" in text and ">feed_dispatched<" not in text
    resent = post(supervisor, "/channels/interfaces", {"action": "retry",
                                                       "message": str(message_id)})
    assert resent.status_code == 302
    with services.new_uow() as uow:
        assert uow.session.get(OutboxMessage, message_id).status == "pending"
        assert uow.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "outbox_retried")) is not None


def test_the_cockpit_shows_k12(client, services, users, as_role):
    catalogue.save_interface(services.new_uow(), SYSTEM, code="share_rs", name="人社数据",
                             kind="share", direction="out", owner_unit_id=None,
                             datasets=["劳动监察"], status="connected",
                             expected_interval_minutes=None)
    with services.new_uow() as uow:
        rate = catalogue.data_sharing_rate(uow.session)
    page = as_role("supervisor").get("/cockpit").get_data(as_text=True)
    assert 'data-testid="tile-K-12"' in page and f"{rate * 100:.0f}%" in page
    assert "/channels/interfaces" in page
    leader = as_role("leader").get("/cockpit").get_data(as_text=True)
    assert 'data-testid="tile-K-12"' in leader and "/channels/interfaces" not in leader


def test_the_interface_page_shows_the_rollup_queue_and_its_parked_cases(
        client, services, users, as_role, monkeypatch, clock):
    cases = build_month(services, build_district(services))
    bad = failing_facts(monkeypatch)
    with services.new_uow() as uow:                      # two changes queued, one will fail
        for letter in "AD":
            uow.session.get(Case, cases[letter].id).second_complaint = True
        uow.commit()
    supervisor = as_role("supervisor")
    text = supervisor.get("/channels/interfaces").get_data(as_text=True)
    queue = text.split('data-testid="rollup-queue"', 1)[1].split("</p>", 1)[0]
    assert "等待计入驾驶舱统计的案件：2 件" in queue and "暂缓重试的案件：0 件" in queue
    assert 'data-testid="rollup-parked"' not in text
    bad.add(cases["D"].id)
    catch_up(services)
    text = supervisor.get("/channels/interfaces").get_data(as_text=True)
    queue = text.split('data-testid="rollup-queue"', 1)[1].split("</p>", 1)[0]
    assert "等待计入驾驶舱统计的案件：0 件" in queue and "暂缓重试的案件：1 件" in queue
    parked = text.split('data-testid="rollup-parked"', 1)[1].split("</table>", 1)[0]
    assert cases["D"].case_no in parked and cases["A"].case_no not in parked
    assert '<td class="text-end">1</td>' in parked and "2025-03-03 09:00" in parked  # attempts, when
    assert PERSONAL not in text and "ValueError" not in text
    assert "调度程序的日志" in text and "网页服务（gunicorn）的日志" in text  # readers park too


def test_the_parked_cases_named_on_the_interface_page_are_those_in_the_readers_scope(
        client, services, users, monkeypatch):
    district = build_district(services)
    cases = build_month(services, district)
    bad = failing_facts(monkeypatch)
    bad.update({cases["A"].id, cases["D"].id})             # A in 青山镇, D in 城东街道
    with services.new_uow() as uow:
        for letter in "AD":
            uow.session.get(Case, cases[letter].id).second_complaint = False
        uow.commit()
    catch_up(services)
    users.add("qs_supervisor", "supervisor", "QS-ZZ")      # 青山镇综治中心

    def parked_section(username):
        own = client.application.test_client()
        assert login(own, username).status_code == 302
        text = own.get("/channels/interfaces").get_data(as_text=True)
        return text.split('data-testid="rollup-queue"', 1)[1].split("未能送达的消息", 1)[0]

    centre = parked_section("supervisor")                   # the district's centre: both
    assert "暂缓重试的案件：2 件" in centre
    assert cases["A"].case_no in centre and cases["D"].case_no in centre
    assert 'data-testid="rollup-parked-more"' not in centre
    township = parked_section("qs_supervisor")              # the township's: its own case only
    assert "暂缓重试的案件：2 件" in township                  # the counts stay the whole queue's
    assert cases["A"].case_no in township and cases["D"].case_no not in township
    more = township.split('data-testid="rollup-parked-more"', 1)[1].split("</p>", 1)[0]
    assert "另有 1 件未列出" in more
    users.add("bs_supervisor", "supervisor", "BS-ZZ")      # 白沙镇: neither case is theirs
    other = parked_section("bs_supervisor")
    assert cases["A"].case_no not in other and cases["D"].case_no not in other
    assert 'data-testid="rollup-parked"' not in other and "另有" not in other
    assert "这些案件都不在您的查看范围内" in other


def test_an_entry_opens_for_change_with_its_values_and_units_are_chosen_by_name(
        client, services, users, as_role):
    """修改 fills the form from the entry (its unit selected by name); the admin changes only
    what he means to change; a subscription without a unit is a field error, input kept."""
    catalogue.save_interface(services.new_uow(), SYSTEM, code="share_xf", name="信访数据",
                             kind="share", direction="in", owner_unit_id=_unit(services, "XF"),
                             datasets=["信访件", "来访登记"], status="planned",
                             expected_interval_minutes=60)
    admin = as_role("admin")
    page = admin.get("/channels/interfaces").get_data(as_text=True)
    assert 'href="/channels/interfaces?edit=share_xf#catalogue-form"' in page
    with services.new_uow() as uow:
        xf_name = uow.session.scalars(select(Department.name).where(Department.code == "XF")).one()
    assert f'<option value="XF">{xf_name}</option>' in page    # chosen by name, not typed
    opened = admin.get("/channels/interfaces?edit=share_xf").get_data(as_text=True)
    assert f'<option value="XF" selected>{xf_name}</option>' in opened
    assert 'value="信访数据"' in opened and 'value="信访件，来访登记"' in opened
    assert 'value="60"' in opened
    answer = post(admin, "/channels/interfaces", {
        "action": "catalogue", "code": "share_xf", "name": "信访数据共享", "owner_unit": "XF",
        "datasets": "信访件，来访登记", "expected_interval_minutes": "60", "kind": "share",
        "direction": "in", "status": "connected"})
    assert answer.status_code == 302
    with services.new_uow() as uow:
        row = uow.session.scalars(select(Interface).where(Interface.code == "share_xf")).one()
        assert (row.name, row.datasets, row.status) == ("信访数据共享", ["信访件", "来访登记"],
                                                        "connected")
    missing = post(admin, "/channels/interfaces", {
        "action": "subscribe", "unit_code": "", "endpoint_url": "https://feed.example/hook",
        "kind-closed": "1"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "请选择单位" in visible_text(text)
    assert 'value="https://feed.example/hook"' in text
