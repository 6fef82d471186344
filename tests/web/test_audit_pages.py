"""The auditor's workbench pages: history, step states, verify, tamper evidence, export, access log."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from engine.models import AuditEvent
from tests.audit_support import deploy, deploy_bytes, drop_audit_triggers, run_joint_case
from tests.web.conftest import PASSWORD, Users, csrf_token
from tests.web.test_pages_in_words import visible_text
from web import audit, create_app
from web.labels import label
from workflows.access.policy import actor_for_user
from workflows.audit.log import AuditAction
from workflows.core.actors import SYSTEM
from workflows.library.elements import TASK_ELEMENTS
from workflows.models import Case, CaseParty, OpenTask, User
from workflows.people import admin
from workflows.replay.engine import RecordedEvent
from workflows.replay.export import verify_export
from workflows.replay.history import describe

CASE = "TEST-J-001"


@pytest.fixture
def app(services, settings):
    app = create_app(settings, services=services)
    if "audit" not in app.blueprints:  # until web/__init__.py registers it
        audit.register(app)
    return app


@pytest.fixture
def users(services, reference) -> Users:
    """Only the roles these pages concern (no department: the auditor has none anyway)."""
    found = Users(services)
    for role in ("auditor", "mediator", "intake_clerk"):
        found.add(role, role, None)
    return found


@pytest.fixture
def joint(services, reference):
    deploy(services, "audit_joint.bpmn")
    return run_joint_case(services, CASE)


def _seq(services, driver, action, **match):
    with services.session_factory() as session:
        rows = session.execute(select(AuditEvent.seq, AuditEvent.payload).where(
            AuditEvent.chain_key == f"case:{driver.case_id}", AuditEvent.action == action)
            .order_by(AuditEvent.seq)).all()
    return next(seq for seq, payload in rows
                if all(json.loads(payload).get(k) == v for k, v in match.items()))


def test_auditor_reads_the_history_with_filters(as_role, joint):
    client = as_role("auditor")

    page = client.get(f"/audit/cases/{CASE}").get_data(as_text=True)
    timers = client.get(f"/audit/cases/{CASE}?kind=timer").get_data(as_text=True)

    assert 'data-ok="1"' in page and "审计链完整" in page
    for action in ("case_opened", "task_completed", "timer_fired", "message_received",
                   "process_deployed"):
        assert f'data-action="{action}"' in page
    assert 'title="amount"' in page and "386000" in page  # the submission, before → after
    assert timers.count('data-action="') == 1 and 'data-action="timer_fired"' in timers


def test_history_and_replay_name_the_process_and_the_purpose_in_words(as_role, services, joint):
    client = as_role("auditor")
    page = visible_text(client.get(f"/audit/cases/{CASE}").get_data(as_text=True))
    opened = _seq(services, joint, "case_opened")
    state = client.get(f"/audit/cases/{CASE}/steps/{opened}.json").get_json()
    replay = client.get(f"/audit/cases/{CASE}/replay?seq={opened}").get_data(as_text=True)

    assert "流程 联合派单（审计测试）（版本 1）" in page and "joint_case" not in page
    # before any step is recorded the drop-down offers the case's process, by its name
    assert state["processes"] == [{"id": "joint_case", "name": "联合派单（审计测试）"}]
    assert '<option value="joint_case" selected>联合派单（审计测试）</option>' in replay
    assert "joint_case" not in visible_text(replay)
    shown = replay.split('data-testid="replay-data">', 1)[1].split("</tbody>", 1)[0]
    assert ("无" in shown) == (not state["data"]), "an empty data table says so"
    for purpose, words in (("case_page", "查看案件页（脱敏）"), ("contact", "联系当事人")):
        event = RecordedEvent(1, "party_viewed", datetime.now(UTC), {"purpose": purpose})
        assert describe(event) == f"用途：{words}"


def test_step_state_drives_the_diagram(as_role, services, joint):
    client = as_role("auditor")
    triage = _seq(services, joint, "task_completed", bpmn_id="triage")

    state = client.get(f"/audit/cases/{CASE}/steps/{triage}.json").get_json()
    page = client.get(f"/audit/cases/{CASE}/replay?seq={triage}").get_data(as_text=True)
    xml = client.get(f"/audit/cases/{CASE}/diagram.bpmn?version={state['version_id']}")

    assert state["process_id"] == "joint_case"
    assert {"co_handle", "lead_handle"} <= set(state["current"])
    assert state["deadlines"][0]["name"] == "办理时限"
    assert {"key": "amount", "label": "金额", "text": "386000"} in state["data"]
    assert 'data-jf-replay' in page and "js/replay.js" in page and 'aria-current="step"' in page
    assert xml.status_code == 200 and b'id="joint_case"' in xml.data


def test_verify_button_reports_and_records(as_role, services, joint):
    client = as_role("auditor")

    token = csrf_token(client, f"/audit/cases/{CASE}")
    fragment = client.post(f"/audit/cases/{CASE}/verify", data={"csrf_token": token},
                           headers={"HX-Request": "true"})

    assert 'data-result="verified"' in fragment.get_data(as_text=True)
    with services.session_factory() as session:
        last = session.scalars(select(AuditEvent).where(
            AuditEvent.chain_key == f"case:{joint.case_id}").order_by(AuditEvent.seq.desc())).first()
    assert last.action == AuditAction.CASE_REPLAYED and last.actor_role == "auditor"


def test_tampered_row_is_named_on_the_case_and_database_pages(as_role, services, joint):
    client = as_role("auditor")
    seq = _seq(services, joint, "task_completed", bpmn_id="triage")
    drop_audit_triggers(services)
    services.db.execute(text("UPDATE audit_event SET payload = replace(payload, '386000', '1') "
                             "WHERE chain_key = :c AND seq = :s"),
                        {"c": f"case:{joint.case_id}", "s": seq})

    case_page = client.get(f"/audit/cases/{CASE}").get_data(as_text=True)
    chains = client.get("/audit/chains").get_data(as_text=True)
    verify = client.post(f"/audit/cases/{CASE}/verify",
                         data={"csrf_token": csrf_token(client, "/audit/")}).get_data(as_text=True)

    assert 'data-ok="0"' in case_page and f"序号 {seq}" in case_page
    assert f"案件 {CASE} 序号 {seq}" in chains and "哈希不符" in chains and "hash mismatch" not in chains
    assert 'data-result="broken_chain"' in verify


def test_deleted_and_reordered_rows_are_named(as_role, services, joint):
    client = as_role("auditor")
    chain = f"case:{joint.case_id}"
    drop_audit_triggers(services)
    services.db.execute(text("DELETE FROM audit_event WHERE chain_key = :c AND seq = 7"),
                        {"c": chain})
    deleted = client.get("/audit/chains").get_data(as_text=True)
    assert f"案件 {CASE} 序号 7" in deleted and "缺少事件或顺序被打乱" in deleted

    # put it back in another order: swap 9 and 10 (through a free number: UNIQUE(chain, seq))
    for old, new in ((9, 1000), (10, 9), (1000, 10)):
        services.db.execute(text("UPDATE audit_event SET seq = :n WHERE chain_key = :c AND seq = :o"),
                            {"c": chain, "o": old, "n": new})
    reordered = client.get(f"/audit/cases/{CASE}").get_data(as_text=True)
    assert 'data-ok="0"' in reordered and "序号 7" in reordered


def test_export_downloads_verify(as_role, services, joint, keyring):
    client = as_role("auditor")

    form = {"csrf_token": csrf_token(client, f"/audit/cases/{CASE}"), "purpose": "internal_audit",
            "reason": "年度抽查"}

    exported = client.post(f"/audit/cases/{CASE}/export.json", data=form)
    report = client.post(f"/audit/cases/{CASE}/export.html", data=form)

    assert exported.headers["Content-Disposition"] == f'attachment; filename="{CASE}.json"'
    assert verify_export(exported.data, keyring).ok
    assert report.mimetype == "text/html" and "案卷审计报告" in report.get_data(as_text=True)
    with services.session_factory() as session:
        purposes = [json.loads(p).get("purpose") for p in session.scalars(select(
            AuditEvent.payload).where(AuditEvent.action == AuditAction.CASE_EXPORTED))]
    assert purposes == ["internal_audit", "internal_audit"]


def test_export_needs_a_purpose_and_verify_needs_a_post(as_role, services, joint):
    client = as_role("auditor")
    token = csrf_token(client, f"/audit/cases/{CASE}")

    unstated = client.post(f"/audit/cases/{CASE}/export.json", data={"csrf_token": token})
    link = client.get(f"/audit/cases/{CASE}/export.json")
    no_csrf = client.post(f"/audit/cases/{CASE}/verify")
    followed = client.get(f"/audit/cases/{CASE}/verify")

    assert unstated.status_code == 422 and b'"events"' not in unstated.data
    assert link.status_code == 405 and followed.status_code == 405 and no_csrf.status_code == 400
    with services.session_factory() as session:
        written = session.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(
            [AuditAction.CASE_EXPORTED, AuditAction.CASE_REPLAYED]))).all()
    assert written == []


def test_access_log_lists_reveals_by_user_and_citizen(as_role, services, users, joint):
    mediator = users.actor("mediator")
    limit = services.settings.reveal_alert_per_day
    with services.new_uow() as uow:
        for _ in range(limit + 1):
            uow.audit.record(AuditAction.PARTY_UNMASKED, mediator, case=joint.case_id,
                             object_type="party", object_id="p-9", party_id="p-9",
                             purpose="contact_party", fields=["phone"])
        uow.commit()
    client = as_role("auditor")

    page = client.get("/audit/access").get_data(as_text=True)

    assert 'data-testid="access-alerts"' in page and f"{limit + 1} 次" in page
    assert f'data-actor="{mediator.id}" class="table-warning"' in page
    assert 'data-party="p-9"' in page and 'data-flagged="1"' in page
    assert f'href="/audit/cases/{CASE}"' in page


def test_other_roles_are_refused_and_the_refusal_audited(as_role, services, joint):
    client = as_role("mediator")

    for path in ("/audit/chains", "/audit/access", f"/audit/cases/{CASE}"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/inbox")
    assert client.post(f"/audit/cases/{CASE}/export.json",
                       data={"csrf_token": token, "purpose": "internal_audit"}).status_code == 403
    with services.session_factory() as session:
        denied = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == AuditAction.ACCESS_DENIED, AuditEvent.actor_role == "mediator"))
    assert denied == 4


@pytest.mark.parametrize(("role", "offered"), [("supervisor", False), ("auditor", True)])
def test_the_workbench_tabs_offer_only_pages_the_role_may_open(as_role, users, joint, role,
                                                               offered):
    """Every chain and every reveal are for auditors: others are not led to a refusal."""
    if role == "supervisor":
        users.add("supervisor", "supervisor", "T_CENTRE")
    page = as_role(role).get("/audit/").get_data(as_text=True)
    nav = page[page.index('data-testid="audit-nav"'):]
    nav = nav[:nav.index("</ul>")]
    assert ('href="/audit/chains"' in nav) is offered and ('href="/audit/access"' in nav) is offered


def test_auditor_can_change_nothing(app, as_role, services, joint, case_no):
    client = as_role("auditor")
    token = csrf_token(client, "/audit/")
    writes = [r for r in app.url_map.iter_rules() if "POST" in r.methods
              and not r.endpoint.startswith(("auth.", "api_v1.", "i18n.", "static"))
              # the auditor's own POSTs: verify and export record themselves, change no case
              and r.endpoint not in ("audit.verify", "audit.export")]
    assert writes, "no write endpoints found"
    with services.session_factory() as session:
        before = session.scalar(select(func.max(AuditEvent.id))) or 0   # ids, not a count: PG
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        real = {"case_no": case_no,  # real objects, so a refusal cannot be a mere "not found"
                "task_id": session.scalars(select(OpenTask.task_id)
                                           .where(OpenTask.case_id == case.id)).first(),
                "party_id": session.scalars(select(CaseParty.party_id)
                                            .where(CaseParty.case_id == case.id)).first()}
        version = case.version_id
    allowed = {}
    for rule in writes:
        values = {arg: real.get(arg) or "1" for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        response = client.post(path, data={"csrf_token": token, "purpose": "contact", "reason": "核对"})
        if response.status_code != 403:
            allowed[rule.endpoint] = response.status_code
    assert not allowed, f"write endpoints not refusing the auditor: {sorted(allowed.items())}"
    with services.session_factory() as session:
        assert session.get(Case, case.id).version_id == version
        written = session.scalars(select(AuditEvent.action).where(
            AuditEvent.id > before, AuditEvent.actor_role == "auditor")).all()
    assert set(written) <= {AuditAction.ACCESS_DENIED}


def test_supervisor_sees_which_fields_changed_but_not_their_values(as_role, services, users,
                                                                   joint):
    users.add("supervisor_d", "supervisor", "T_CENTRE")     # district: every tier
    with services.new_uow() as uow:
        uow.session.get(Case, joint.case_id).tier = "district"
        uow.commit()
    client = as_role("supervisor_d")
    triage = _seq(services, joint, "task_completed", bpmn_id="triage")

    page = client.get(f"/audit/cases/{CASE}").get_data(as_text=True)
    state = client.get(f"/audit/cases/{CASE}/steps/{triage}.json").get_json()
    replay = client.get(f"/audit/cases/{CASE}/replay?seq={triage}").get_data(as_text=True)

    assert 'title="amount"' in page and "386000" not in page and "意见0" not in page
    assert "仅审计员可见" in page and 'data-testid="export-form"' not in page
    amount = next(row for row in state["data"] if row["key"] == "amount")
    assert amount["text"] != "386000"
    assert "386000" not in replay


def test_diagram_serves_only_the_versions_the_case_ran_on(as_role, services, joint):
    client = as_role("auditor")
    triage = _seq(services, joint, "task_completed", bpmn_id="triage")
    version = client.get(f"/audit/cases/{CASE}/steps/{triage}.json").get_json()["version_id"]
    other = deploy_bytes(services, "audit_joint.bpmn", {"办理时限": "办理期限"})["joint_case"]

    own = client.get(f"/audit/cases/{CASE}/diagram.bpmn?version={version}")
    foreign = client.get(f"/audit/cases/{CASE}/diagram.bpmn?version={other.id}")

    assert own.status_code == 200 and own.headers["Content-Disposition"].startswith("attachment")
    assert foreign.status_code == 404


def test_engine_steps_are_behind_a_toggle(as_role, joint):
    client = as_role("auditor")
    people = client.get(f"/audit/cases/{CASE}").get_data(as_text=True)
    everything = client.get(f"/audit/cases/{CASE}?engine=1").get_data(as_text=True)
    # starts, gateways and predicted steps only with the toggle; people's steps either way
    assert people.count('data-action="task_state_changed"') < \
        everything.count('data-action="task_state_changed"')
    assert "分流" in people and 'data-action="task_completed"' in people
    assert everything.count('data-action="task_completed"') == \
        people.count('data-action="task_completed"')
    assert "→ 待定" not in people and "→ 待定" in everything     # predictions only


def _li_qiang_reveals(services, joint) -> None:
    """A triage officer named 李强 (account liqiang_zz) shows a party's full data on the case."""
    admin.create_user(services.new_uow(), SYSTEM, username="liqiang_zz", password=PASSWORD,
                      roles=["triage_officer"], department_code="T_CENTRE", display_name="李强")
    with services.new_uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == "liqiang_zz")).one()
        uow.audit.record(AuditAction.PARTY_UNMASKED, actor_for_user(user), case=joint.case_id,
                         object_type="party", object_id="p-9", party_id="p-9",
                         purpose="contact", fields=["phone"])
        uow.commit()


def test_rows_name_the_person_by_role_and_unit_and_the_account_is_one_events_detail(
        as_role, services, joint):
    """No login name inline: a row says who in words (name, role, unit); the account is a labelled
    field (账号) of the one event the replay shows, and the history's filter still takes it."""
    _li_qiang_reveals(services, joint)
    revealed, fired = (_seq(services, joint, action) for action in ("party_unmasked", "timer_fired"))
    client = as_role("auditor")
    who = "李强（分流研判员 · 测试区综治中心）"

    history = client.get(f"/audit/cases/{CASE}").get_data(as_text=True)
    access = client.get("/audit/access").get_data(as_text=True)
    replay = client.get(f"/audit/cases/{CASE}/replay?seq={revealed}").get_data(as_text=True)
    steps = replay.split('data-testid="replay-steps">', 1)[1].split("</ol>", 1)[0]
    for page in (visible_text(history), visible_text(access), visible_text(steps)):
        assert who in page and "liqiang_zz" not in page
    shown = replay.split('data-testid="replay-account"', 1)[1].split("</div>", 1)[0]
    assert shown == ">账号：<span data-jf-account-name>liqiang_zz</span>"
    states = (client.get(f"/audit/cases/{CASE}/steps/{seq}.json").get_json()
              for seq in (revealed, fired))
    assert [state["account"] for state in states] == ["liqiang_zz", None]
    hidden = client.get(f"/audit/cases/{CASE}/replay?seq={fired}").get_data(as_text=True)
    assert 'data-testid="replay-account" hidden>' in hidden
    filtered = client.get(f"/audit/cases/{CASE}?actor=liqiang_zz").get_data(as_text=True)
    assert filtered.count('data-action="') == 1 and 'data-action="party_unmasked"' in filtered


def test_the_person_filters_say_and_take_a_display_name(as_role, services, joint):
    """The history's 操作人 and the access log's 用户 filters match a person's name, as their
    labels say, besides the user id and the account."""
    _li_qiang_reveals(services, joint)
    client = as_role("auditor")

    history = client.get(f"/audit/cases/{CASE}?actor=李强").get_data(as_text=True)
    access = client.get("/audit/access?user=李强").get_data(as_text=True)
    nobody = client.get("/audit/access?user=王五").get_data(as_text=True)

    assert "操作人（姓名、编号或用户名）" in visible_text(history)
    assert history.count('data-action="') == 1 and 'data-action="party_unmasked"' in history
    assert "用户（姓名、编号或用户名）" in visible_text(access)
    entries = [page.split('data-testid="access-entries"', 1)[1] for page in (access, nobody)]
    assert 'data-action="party_unmasked"' in entries[0] and "无记录" in entries[1]


def test_the_exported_report_names_roles_and_status_in_words(as_role, services, joint):
    """The downloaded HTML case file says 分流研判员, not the role's code."""
    _li_qiang_reveals(services, joint)
    client = as_role("auditor")
    form = {"csrf_token": csrf_token(client, f"/audit/cases/{CASE}"), "purpose": "internal_audit",
            "reason": "年度抽查"}

    report = visible_text(client.post(f"/audit/cases/{CASE}/export.html", data=form)
                          .get_data(as_text=True))

    assert "李强分流研判员" in report and "导出人 auditor （审计员）" in report  # a row, the exporter
    assert "调解员" in report and "状态 已登记" in report
    assert "金额：— → 386000" in report and "amount：" not in report     # a field by its label
    assert [code for code in ("triage_officer", "mediator", "registered") if code in report] == []


def test_an_unnamed_step_is_named_by_its_kind_in_the_pages_words(app, as_role, joint):
    """The history names an unnamed step by its element's kind from the one word table the
    pages translate (library/elements): a catch event is 中间捕获事件 in the history as on the
    process pages, and the same kinds read in English on an English page."""
    def step(task_type: str) -> str:
        return describe(RecordedEvent(1, "task_state_changed", datetime.now(UTC),
                                      {"type": task_type, "from": "WAITING", "to": "COMPLETED"}))

    assert step("IntermediateCatchEvent") == "中间捕获事件：等待 → 完成"
    assert step("BusinessRuleTask") == "决策任务：等待 → 完成"
    assert step("BpmnStartTask") == "流程内部步骤：等待 → 完成"     # the engine's own, no element
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        for task_type, element in TASK_ELEMENTS.items():
            assert step(task_type).split("：")[0] == label("element_kind", element), task_type
    with app.test_request_context(), force_locale("en"):
        assert label("element_kind", "intermediateCatchEvent") != "中间捕获事件"
    page = visible_text(as_role("auditor").get(f"/audit/cases/{CASE}?engine=1")
                        .get_data(as_text=True))
    assert "并行网关：" in page and "结束事件：" in page and "中间等待事件" not in page


def test_the_unit_filter_offers_the_units_people_acted_for_by_name(as_role, services, joint):
    """The history's unit filter is a list of the units named in its rows, not a number to type;
    choosing one keeps the rows of the people who acted for it."""
    _li_qiang_reveals(services, joint)
    client = as_role("auditor")
    page = client.get(f"/audit/cases/{CASE}").get_data(as_text=True)
    select = page.split('id="f-dept"', 1)[1].split("</select>", 1)[0]
    offered = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', select))
    assert "测试区综治中心" in offered.values()
    centre = next(unit_id for unit_id, name in offered.items() if name == "测试区综治中心")
    chosen = client.get(f"/audit/cases/{CASE}?department={centre}").get_data(as_text=True)
    assert f'<option value="{centre}" selected>测试区综治中心</option>' in chosen
    rows = chosen.split('data-testid="history"', 1)[1]
    assert 'data-action="party_unmasked"' in rows and 'data-action="timer_fired"' not in rows
