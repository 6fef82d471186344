"""A second complaint (二次投诉) as its people see it: the receipt names the complaint that just
came in (the submission the redirect names, never another of the case), and the supervisor's
督办单 says it is issued because of it, not for a missed limit."""

from __future__ import annotations

import pytest

from tests.bpmn.test_services_general import close_with_rating, local, registered
from tests.factories import IDS, Walk
from tests.web.conftest import PASSWORD, login, post
from tests.web.test_pages_in_words import visible_text
from workflows.core.actors import SYSTEM
from workflows.people import admin


@pytest.fixture
def walk(services, clock) -> Walk:
    """A noise case registered at the counter (窗口来访) on Mon 2025-03-03 09:00."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    for username, role in (("zz_clerk", "intake_clerk"), ("zz_super", "supervisor")):
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], department_code="ZZ")
    return registered(walk, channel="counter")


FORM = {"category": "noise", "urgency": "general", "people_count": "1", "summary": "噪声又出现",
        "description": "工地夜间施工又开始了", "action": "save", "parties-0-role": "applicant",
        "parties-0-name": "刘淑芬", "parties-0-id_number": IDS["刘淑芬"],
        "parties-0-contact_preference": "sms"}


def _clerk(app):
    clerk = app.test_client()
    login(clerk, "zz_clerk")
    return clerk


def _submit(clerk, walk: Walk, channel: str) -> str:
    """The same person writes in again by ``channel``: the receipt's URL."""
    login(clerk, "zz_clerk")                  # the clock moved on: a fresh session
    saved = post(clerk, "/cases/new", {**FORM, "channel": channel})
    assert saved.status_code == 302
    assert saved.headers["Location"].startswith(f"/cases/{walk.case_no}/receipt?submission=")
    return saved.headers["Location"]


def _complain_again(app, services, walk: Walk, clock) -> str:
    """Closed, then ten days later the same person calls 12345: the receipt page's text."""
    close_with_rating(services, walk)
    clock.set(local(2025, 3, 14, 15, 30))
    clerk = _clerk(app)
    location = _submit(clerk, walk, "hotline_12345")
    return visible_text(clerk.get(location).get_data(as_text=True))


def test_the_receipt_of_a_second_complaint_names_its_own_channel_and_time(app, services, walk,
                                                                         clock):
    receipt = _complain_again(app, services, walk, clock)
    assert "二次投诉" in receipt and walk.case_no in receipt
    assert "来源渠道12345 热线" in receipt and "窗口来访" not in receipt
    assert "登记时间2025-03-14 15:30" in receipt and "2025-03-03" not in receipt


def test_each_receipt_names_the_submission_it_was_made_for(app, services, walk, clock):
    """After the second complaint the case is open again: the same person writes in twice more
    (duplicates). Each receipt keeps its own submission's channel and time, however many came
    in later — the page is not the latest linked submission's."""
    close_with_rating(services, walk)
    clock.set(local(2025, 3, 14, 15, 30))
    clerk = _clerk(app)
    complaint = _submit(clerk, walk, "hotline_12345")
    clock.set(local(2025, 3, 15, 10, 0))
    first = _submit(clerk, walk, "portal")
    clock.set(local(2025, 3, 16, 11, 0))
    second = _submit(clerk, walk, "hotline_12345")
    login(clerk, "zz_clerk")
    texts = [visible_text(clerk.get(url).get_data(as_text=True))
             for url in (complaint, first, second)]
    assert "二次投诉" in texts[0] and "登记时间2025-03-14 15:30" in texts[0]
    assert "重复件" in texts[1] and "来源渠道网上平台" in texts[1]
    assert "登记时间2025-03-15 10:00" in texts[1] and "2025-03-16" not in texts[1]
    assert "来源渠道12345 热线" in texts[2] and "登记时间2025-03-16 11:00" in texts[2]


def test_a_submission_of_another_case_has_no_receipt_here(app, services, walk, clock):
    other = Walk(services, clock)
    other.users = walk.users
    registered(other, name="陈立伟", channel="counter", category="neighbour", summary="楼上漏水",
               description="卫生间渗漏到楼下")
    close_with_rating(services, walk)
    clock.set(local(2025, 3, 14, 15, 30))
    clerk = _clerk(app)
    submission = _submit(clerk, walk, "hotline_12345").rsplit("=", 1)[1]
    mine = clerk.get(f"/cases/{other.case_no}/receipt")
    assert mine.status_code == 200 and "窗口来访" in visible_text(mine.get_data(as_text=True))
    stolen = clerk.get(f"/cases/{other.case_no}/receipt?submission={submission}")
    assert stolen.status_code == 404
    assert "12345" not in visible_text(stolen.get_data(as_text=True))
    for malformed in ("abc", "0", "-1", "99999999"):
        assert clerk.get(f"/cases/{walk.case_no}/receipt?submission={malformed}"
                         ).status_code == 404


def test_the_receipt_of_a_new_case_is_its_registration(app, walk):
    clerk = app.test_client()
    login(clerk, "zz_clerk")
    receipt = visible_text(clerk.get(f"/cases/{walk.case_no}/receipt").get_data(as_text=True))
    assert "来源渠道窗口来访" in receipt and "登记时间2025-03-03 09:00" in receipt
    assert "二次投诉" not in receipt and "重复件" not in receipt


def _supervision_page(app, walk: Walk) -> str:
    supervisor = app.test_client()
    login(supervisor, "zz_super")
    task = walk.task("issue_supervision")["task_id"]
    return visible_text(supervisor.get(f"/cases/{walk.case_no}/tasks/{task}")
                        .get_data(as_text=True))


def test_the_supervision_notice_of_a_second_complaint_says_why(app, services, walk, clock):
    _complain_again(app, services, walk, clock)
    page = _supervision_page(app, walk)
    assert "二次投诉" in page and "已超过办理时限" not in page


def test_the_supervision_notice_of_a_missed_limit_says_so(app, walk):
    walk.until(local(2025, 3, 4, 9, 1))                      # sign-off breach 1: L0 催办
    walk.until(local(2025, 3, 5, 9, 2))                      # breach 2: L1 督办单
    page = _supervision_page(app, walk)
    assert "已超过办理时限" in page and "二次投诉" not in page


def test_the_case_page_lists_what_the_citizen_said_again(app, services, walk, clock):
    """Reopened by a second complaint: the case page shows that complaint (when, by which
    channel, its summary), and the rating of the closed round is called the last round's."""
    _complain_again(app, services, walk, clock)
    supervisor = app.test_client()
    login(supervisor, "zz_super")
    page = supervisor.get(f"/cases/{walk.case_no}").get_data(as_text=True)
    listed = visible_text(page.split('data-testid="later-submissions"', 1)[1].split("</section>")[0])
    assert "再次来件（1 次）" in listed
    assert "2025-03-14 15:30" in listed and "12345 热线" in listed and "二次投诉" in listed
    assert "噪声又出现" in listed
    header = visible_text(page.split('data-testid="satisfaction"', 1)[0].rsplit("<dl", 1)[1])
    assert "上一轮满意度" in header
