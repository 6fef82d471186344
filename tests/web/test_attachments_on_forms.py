"""Files attached on the intake form and on any task form: stored with the step, listed on the
case page with who attached them, downloaded as attachments (audited), seen by co-departments
only when their own people attached them; each refusal leaves nothing half-written."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.web.conftest import post
from tests.web.test_case_pages import INTAKE
from workflows.cases.lookup import find_case
from workflows.models import Attachment, Case, OpenTask


def photo(fmt: str = "JPEG") -> bytes:
    """A small photo carrying EXIF (a camera make) in a JPEG."""
    out = io.BytesIO()
    image = Image.new("RGB", (40, 30), (20, 120, 200))
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _count(services, model, *where) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def _task_id(services, case_no: str, bpmn_id: str) -> str | None:
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        return uow.session.scalars(select(OpenTask.task_id).where(
            OpenTask.case_id == case.id, OpenTask.bpmn_id == bpmn_id)).first()


def _actions(services) -> list[str]:
    with services.new_uow() as uow:
        return list(uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


TRIAGE = {"department": "ZJ", "triage_note": "住建局牵头"}


def _triage(client, services, case_no, files, **extra):
    task_id = _task_id(services, case_no, "triage")
    data = {**TRIAGE, **extra, "attachments": files}
    return post(client, f"/cases/{case_no}/tasks/{task_id}", data,
                content_type="multipart/form-data")


# -- a task ----------------------------------------------------------------------------------------
def test_files_on_a_task_are_kept_with_the_step_and_listed_on_the_case_page(as_role, services,
                                                                              case_no):
    client = as_role("triage_officer")
    form = client.get(f"/cases/{case_no}/tasks/{_task_id(services, case_no, 'triage')}")
    text = form.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in text and 'type="file"' in text and "multiple" in text
    response = _triage(client, services, case_no, [(io.BytesIO(photo()), "现场.jpg"),
                                                   (io.BytesIO(PDF), "工资表.pdf")])
    assert response.status_code == 302
    assert _task_id(services, case_no, "handle") is not None
    with services.new_uow() as uow:
        rows = [(r.content_type, r.sha256) for r in uow.session.scalars(
            select(Attachment).order_by(Attachment.id))]
        task_events = [json.loads(e.payload) for e in uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "attachment_added"))]
    assert [kind for kind, _sha in rows] == ["image/jpeg", "application/pdf"]
    assert all(p.get("task_id") for p in task_events) and len(task_events) == 2
    sha = rows[0][1]
    stored = (services.settings.instance_path / "attachments" / sha[:2] / sha).read_bytes()
    assert b"PhoneMaker" not in stored            # the EXIF went with the re-encoding
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'data-testid="case-attachments"' in page and "照片 1" in page and "PDF 文件 2" in page
    assert "测试区综治中心 triage_officer用户" in page      # the unit and the person who attached it


def test_a_download_is_an_attachment_and_is_audited(as_role, services, case_no):
    client = as_role("triage_officer")
    _triage(client, services, case_no, [(io.BytesIO(PDF), "协议扫描件.pdf")])
    with services.new_uow() as uow:
        attachment_id = uow.session.scalars(select(Attachment.id)).one()
    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _actions(services).count("attachment_downloaded") == 1


# (name, bytes) of the files sent, and the words the form shows
REFUSALS = [
    pytest.param([("工资表.pdf", b"MZ\x90\x00" + b"\x00" * 200)], "只能上传", id="type"),
    pytest.param([("现场.jpg", photo("PNG"))], "文件内容与扩展名", id="disguised"),
    pytest.param([("../../etc/现场.jpg", photo())], "文件名不能含路径", id="path"),
    pytest.param([("大.pdf", b"%PDF-1.4\n" + b"0" * (8 * 1024 * 1024))], "文件超过", id="size"),
    pytest.param([("a.jpg", photo()), ("b.gif", b"GIF89a" + b"\x00" * 40)], "只能上传",
                 id="one-of-two"),
]


def _parts(files):
    return [(io.BytesIO(data), name) for name, data in files]


@pytest.mark.parametrize(("files", "words"), REFUSALS)
def test_a_refused_file_refuses_the_step_and_nothing_is_written(as_role, services, case_no,
                                                               files, words):
    client = as_role("triage_officer")
    task_id = _task_id(services, case_no, "triage")
    before = _actions(services)
    response = _triage(client, services, case_no, _parts(files))
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and words in text and "请重新选择文件" in text
    assert 'value="住建局牵头"' in text                    # what was typed is kept
    assert _task_id(services, case_no, "triage") == task_id  # the task is not completed
    assert _task_id(services, case_no, "handle") is None
    assert _count(services, Attachment) == 0
    assert "attachment_added" not in _actions(services)[len(before):]
    assert not list((services.settings.instance_path / "attachments").glob("*/*")) \
        if (services.settings.instance_path / "attachments").exists() else True


def test_field_errors_and_a_refused_file_are_shown_together(as_role, services, case_no):
    response = _triage(as_role("triage_officer"), services, case_no,
                       [(io.BytesIO(photo("PNG")), "现场.jpg")], triage_note="x" * 60)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "最多 50 个字符" in text and "文件内容与扩展名" in text


# -- the intake form -------------------------------------------------------------------------------
def _save(client, files):
    return post(client, "/cases/new", {**INTAKE, "action": "save", "attachments": files},
                content_type="multipart/form-data")


def test_the_intake_form_offers_the_file_field_with_the_save_button(as_role, process):
    client = as_role("intake_clerk")
    assert 'type="file"' not in client.get("/cases/new").get_data(as_text=True)
    preview = post(client, "/cases/new", {**INTAKE, "action": "preview"},
                   content_type="multipart/form-data")
    text = preview.get_data(as_text=True)
    assert 'name="attachments"' in text and 'enctype="multipart/form-data"' in text


def test_files_on_intake_are_attached_to_the_new_case(as_role, services, process):
    client = as_role("intake_clerk")
    saved = _save(client, [(io.BytesIO(photo()), "欠薪名单.jpg"), (io.BytesIO(PDF), "工资表.pdf")])
    assert saved.status_code == 302
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case)).one()
        case_no = case.case_no
        rows = list(uow.session.scalars(select(Attachment).where(Attachment.case_id == case.id)))
    assert len(rows) == 2
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "照片 1" in page and "PDF 文件 2" in page and "intake_clerk用户" in page


@pytest.mark.parametrize(("files", "words"), REFUSALS)
def test_a_refused_file_on_intake_saves_no_case(as_role, services, process, files, words):
    client = as_role("intake_clerk")
    response = _save(client, _parts(files))
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and words in text
    assert 'data-testid="save"' in text and 'name="attachments"' in text   # pick again, save
    assert 'value="电梯停运两周，业主拒交物业费"' in text
    assert _count(services, Case) == 0 and _count(services, Attachment) == 0


def test_too_many_files_are_refused(as_role, services, process):
    files = [(io.BytesIO(PDF + str(i).encode()), f"{i}.pdf") for i in range(11)]
    response = _save(as_role("intake_clerk"), files)
    assert response.status_code == 422 and "一次最多上传 10 个文件" in response.get_data(as_text=True)
    assert _count(services, Case) == 0


# -- co-departments --------------------------------------------------------------------------------
def test_a_co_department_sees_only_the_files_its_own_people_attached(client, as_role, services,
                                                                     users, case_no):
    from tests.web.conftest import login
    from tests.web.test_privacy_scope import _co_department
    from workflows.attachments.store import add_attachment, check_file

    _triage(as_role("triage_officer"), services, case_no, [(io.BytesIO(PDF), "研判材料.pdf")])
    co = _co_department(services, users, case_no)
    colleague = users.add("co_colleague", "dept_handler", "T_MEDIATION")
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        add_attachment(uow, users.actor(colleague), case,
                       check_file("协办照片.jpg", photo(), 1 << 20))
        uow.commit()
        lead_file, co_file = uow.session.scalars(select(Attachment.id).order_by(Attachment.id))
    client.get("/auth/login")
    login(client, co)
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert f"/attachments/{co_file}" in page and f"/attachments/{lead_file}" not in page
    assert client.get(f"/attachments/{co_file}").status_code == 200
    assert client.get(f"/attachments/{lead_file}").status_code == 403
    everyone = as_role("triage_officer").get(f"/cases/{case_no}").get_data(as_text=True)
    assert f"/attachments/{co_file}" in everyone and f"/attachments/{lead_file}" in everyone
