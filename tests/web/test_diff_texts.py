"""The diff page shows changed documentation, form, timer and condition text before and after,
in words; the migration page marks a words-only change as safe."""

from __future__ import annotations

import re

from tests.process_fixtures import PROCESSES, complete_step, deploy_version, owner, start_case
from workflows.processes.deploy import deploy_bundle


def _edited() -> dict[str, str]:
    text = (PROCESSES / "mediation_v1.bpmn").read_text(encoding="utf-8")
    for old, new in (("请在 15 日内组织调解。", "请在 15 日内组织调解，并告知双方权利义务。"),
                     ('label="摘要"', 'label="事项摘要"'), ("P15D", "P10D")):
        assert old in text
        text = text.replace(old, new)
    return {"mediation.bpmn": text}


def _visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_changed_texts_are_shown_before_and_after(as_role, services):
    client = as_role("process_owner")
    deploy_version(services, "mediation_v1")
    deploy_bundle(services.new_uow(), owner(), _edited())
    html = client.get("/processes/mediation/diff?from=1&to=2").get_data(as_text=True)
    text = _visible(html)
    assert 'data-testid="texts-mediate"' in html
    before = html.split('data-testid="before-mediate-documentation"')[1].split("</td>")[0]
    after = html.split('data-testid="after-mediate-documentation"')[1].split("</td>")[0]
    assert "请在 15 日内组织调解。" in before and "告知双方权利义务" in after
    form_after = html.split('data-testid="after-register-form"')[1].split("</td>")[0]
    assert "事项摘要" in form_after and "文本" in form_after
    timer_before = html.split('data-testid="before-deadline_15d-timer"')[1].split("</td>")[0]
    assert "时长" in _visible(timer_before) and "P15D" in timer_before
    # aspects and element kinds in words, not codes
    assert "用户任务" in text and "说明" in text
    assert "userTask" not in text and "documentation" not in text


def test_a_words_only_change_is_safe_to_migrate_and_says_so(as_role, services):
    client = as_role("process_owner")
    deploy_version(services, "mediation_v1")
    start_case(services, "mediation", "JF-W")
    complete_step(services, "JF-W", "register", {"category": "labour"})
    text = (PROCESSES / "mediation_v1.bpmn").read_text(encoding="utf-8")
    deploy_bundle(services.new_uow(), owner(), {"mediation.bpmn": text.replace(
        'label="摘要"', 'label="事项摘要"')})
    page = _visible(client.get("/processes/mediation/migrate?to=2").get_data(as_text=True))
    row = page.split("JF-W")[1].split("迁移理由")[0]
    assert "安全" in row and "不安全" not in row
    # the steps by their names: the case waits at 组织调解, 登记纠纷 changed in words only
    assert "组织调解" in row and "mediate" not in row and "register" not in row
    assert "登记纠纷（仅文字，安全）" in page.replace(" ", "")


def test_stale_drafts_are_listed_on_the_catalogue_and_deleted_there(as_role, services, clock):
    from tests.process_fixtures import process_files
    from tests.web.conftest import csrf_token
    from workflows.processes import drafts

    old = drafts.save_draft(services.new_uow(), owner(), process_files("mediation_v1"),
                            title="去年的草稿")
    clock.advance(days=45)
    client = as_role("process_owner")  # signed in after the clock moved (sessions expire)
    html = client.get("/processes/").get_data(as_text=True)
    section = html.split('data-testid="stale-drafts"')[1].split("</section>")[0]
    assert "超过 30 天未保存的草稿" in section and "去年的草稿" in section
    done = client.post("/processes/drafts/stale/delete", data={
        "csrf_token": csrf_token(client, "/processes/"), "draft_id": str(old.id)})
    assert done.status_code == 302
    assert 'data-testid="stale-drafts"' not in client.get("/processes/").get_data(as_text=True)
