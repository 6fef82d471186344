"""The grid worker's phone: a report from one's grid with a photo becomes a case (channel
grid_app) at the chosen building; the photo is stored by hash without its EXIF; grid workers see
their own reports only; visits on one's own report; the attachment store's refusals."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.web.conftest import CSRF, login
from tests.web.test_pages_in_words import visible_text
from tests.workflows.test_district_intake import build_district
from workflows.attachments.store import check_file, file_path
from workflows.core.errors import InvalidInput
from workflows.models import Attachment, Case, CaseNote, Department, GridReport, GridVisit


@pytest.fixture
def grid_workers(services, users, process):
    places = build_district(services)
    with services.new_uow() as uow:
        for code, name, grid in (("WG_SM1", "石门村第一网格工作站", "G_SM1"),
                                 ("WG_HX1", "红星村第一网格工作站", "G_HX1")):
            uow.session.add(Department(code=code, name=name, kind="WG", tier="community",
                                       place_id=places[grid], responsibilities=[]))
        uow.commit()
    users.add("grid_sm", "grid_worker", "WG_SM1")
    users.add("grid_hx", "grid_worker", "WG_HX1")
    return users


PLAIN = {"registered": "已收到，等待受理", "triage": "正在分派", "dispatched": "已交给负责单位",
         "in_handling": "正在处理"}


def photo(fmt: str = "JPEG", *, gps: bool = True) -> bytes:
    """A small photo; a JPEG carries EXIF with a GPS position and a camera make."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    out = io.BytesIO()
    if fmt == "JPEG" and gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"                              # Make
        exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def sign_in(client, username: str):
    client.get("/auth/login")
    assert login(client, username).status_code == 302
    return client


def report(client, **changes):
    data = {"category": "neighbour", "summary": "楼道堆放杂物堵塞消防通道",
            "place_code": "B_SM12", "where": "3单元", **changes}
    data.setdefault("photo", (io.BytesIO(photo()), "IMG_0001.jpg"))
    if data["photo"] is None:
        data.pop("photo")
    return post(client, "/grid/report", data, content_type="multipart/form-data")


def post(client, path: str, data: dict, **kwargs):
    """POST with the CSRF token of the session (from the grid form, or the inbox for others)."""
    page = client.get("/grid/report")
    if page.status_code != 200:
        page = client.get("/inbox")
    match = CSRF.search(page.get_data(as_text=True))
    assert match
    return client.post(path, data={"csrf_token": match.group(1), **data}, **kwargs)


def count(services, model, *where) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_report_with_a_photo_becomes_a_case_at_the_building(client, services, grid_workers):
    sign_in(client, "grid_sm")
    assert client.get("/inbox").headers["Location"].endswith("/grid/")
    home = client.get("/grid/").get_data(as_text=True)
    assert "石门村第一网格" in home
    form = client.get("/grid/report").get_data(as_text=True)
    assert "石门村12栋" in form and "红星村2栋" not in form       # the grid's buildings only
    response = report(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "楼道堆放杂物堵塞消防通道" in detail
    with services.new_uow() as uow:
        row = uow.session.scalars(select(GridReport)).one()
        case = uow.session.get(Case, row.case_id)
        assert PLAIN[case.status] in detail         # the status in plain words
        assert (case.channel, case.category) == ("grid_app", "neighbour")
        assert case.location_detail == "3单元"
        stored = uow.session.scalars(select(Attachment)).one()
        uow.session.expunge(stored)
        data = file_path(services.settings.instance_path, stored.sha256).read_bytes()
        events = {e.action: json.loads(e.payload) for e in uow.session.scalars(select(AuditEvent).where(
            AuditEvent.chain_key == f"case:{case.id}"))}
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    assert events["attachment_added"]["sha256"] == stored.sha256
    assert "grid_reported" in events
    with Image.open(io.BytesIO(data)) as cleaned:
        assert cleaned.size == (64, 48) and not cleaned.getexif()
    assert b"PhoneMaker" not in data


def test_the_photo_downloads_only_for_those_who_may_see_the_case(client, services, app,
                                                                  grid_workers):
    sign_in(client, "grid_sm")
    report(client)
    with services.new_uow() as uow:
        attachment_id = uow.session.scalar(select(Attachment.id))
    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Type"] == "image/jpeg"
    other = app.test_client()
    sign_in(other, "grid_hx")
    assert other.get(f"/attachments/{attachment_id}").status_code == 403
    mediator = app.test_client()
    sign_in(mediator, "mediator")
    assert mediator.get(f"/attachments/{attachment_id}").status_code == 403


def test_a_grid_worker_sees_only_their_own_reports_and_cases(client, services, app,
                                                             grid_workers, case_no):
    sign_in(client, "grid_sm")
    report(client, photo=None)
    with services.new_uow() as uow:
        mine = uow.session.scalars(select(GridReport)).one()
        own_case = uow.session.scalar(select(Case.case_no).where(Case.id == mine.case_id))
        uow.session.expunge(mine)
    assert client.get(f"/cases/{own_case}").status_code == 200
    assert client.get(f"/cases/{case_no}").status_code == 403      # the clerk's case
    listed = client.get("/cases").get_data(as_text=True)
    assert own_case in listed and case_no not in listed
    other = app.test_client()
    sign_in(other, "grid_hx")
    assert "楼道堆放杂物" not in other.get("/grid/reports").get_data(as_text=True)
    assert other.get(f"/grid/reports/{mine.id}").status_code == 403
    assert post(other, f"/grid/reports/{mine.id}/visits",
                {"outcome": "ongoing", "note": "去看过"}).status_code == 403
    assert count(services, GridVisit) == 0


def test_a_building_of_another_grid_is_refused_and_nothing_is_written(client, services,
                                                                      grid_workers):
    sign_in(client, "grid_sm")
    response = report(client, place_code="B_HX2")
    assert response.status_code == 422
    assert "不是本网格内的楼栋" in response.get_data(as_text=True)
    assert count(services, Case) == 0 and count(services, Attachment) == 0


def test_no_building_needs_the_place_in_words(client, services, grid_workers):
    sign_in(client, "grid_sm")
    assert report(client, place_code="", where="", photo=None).status_code == 422
    assert report(client, place_code="", where="村口小卖部旁", photo=None).status_code == 302
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case)).one()
        assert case.location_detail == "村口小卖部旁"


def _field_error(page: str, name: str) -> str:
    """The words of the error shown under one field of a grid form."""
    return visible_text(page.split(f'id="{name}-error"')[1].split("</div>")[0].split(">", 1)[1])


def test_personal_data_in_the_description_is_refused(client, services, grid_workers):
    """The grid worker's form has no party fields: the error names his own field and says what to
    write instead, under that field, and what he typed stays."""
    sign_in(client, "grid_sm")
    response = report(client, summary="住户13912345678反映楼上漏水", photo=None)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    words = _field_error(page, "summary")
    assert words.startswith("“简单说说情况”里不能写手机号")
    assert "3单元502室" in words and "承办单位会上门联系" in words
    assert "当事人信息中" not in visible_text(page) and "当事人字段" not in visible_text(page)
    assert 'id="where-error"' not in page
    assert "住户13912345678反映楼上漏水</textarea>" in page and 'value="3单元"' in page
    assert count(services, Case) == 0


def test_a_phone_number_in_the_place_is_refused_on_the_place(client, services, grid_workers):
    sign_in(client, "grid_sm")
    response = report(client, where="3单元 电话 139 1234 5678", photo=None)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "where").startswith("“具体位置”里不能写手机号")
    assert 'id="summary-error"' not in page
    assert count(services, Case) == 0


def test_a_phone_number_in_a_visit_note_is_refused_on_the_note(client, services, grid_workers):
    sign_in(client, "grid_sm")
    report(client, photo=None)
    with services.new_uow() as uow:
        mine = uow.session.scalars(select(GridReport)).one().id
    response = post(client, f"/grid/reports/{mine}/visits",
                    {"outcome": "worse", "note": "住户电话13912345678"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    note = visible_text(page.split('id="note"')[1].split("</form>")[0])
    assert "“说明”里不能写手机号" in note and "住户电话13912345678" in page
    assert count(services, CaseNote) == 0


def test_a_visit_on_ones_own_report_is_kept_and_written_on_the_case(client, services,
                                                                    grid_workers):
    sign_in(client, "grid_sm")
    report(client, photo=None)
    with services.new_uow() as uow:
        mine = uow.session.scalars(select(GridReport)).one()
        uow.session.expunge(mine)
    assert post(client, f"/grid/reports/{mine.id}/visits",
                {"outcome": "worse", "note": ""}).status_code == 422
    done = post(client, f"/grid/reports/{mine.id}/visits",
                {"outcome": "worse", "note": "杂物更多了，已通知物业"})
    assert done.status_code == 302
    page = client.get(f"/grid/reports/{mine.id}").get_data(as_text=True)
    assert "情况加重，需要尽快处理" in page and "杂物更多了，已通知物业" in page
    assert count(services, CaseNote, CaseNote.case_id == mine.case_id) == 1
    assert count(services, AuditEvent, AuditEvent.action == "grid_visit_recorded") == 1


def test_other_roles_may_not_use_the_grid_pages(client, services, grid_workers):
    sign_in(client, "intake_clerk")
    assert client.get("/grid/").status_code == 403
    assert report(client).status_code == 403
    assert count(services, Case) == 0


def test_the_manifest_lets_the_app_be_added_to_the_home_screen(client, grid_workers):
    sign_in(client, "grid_sm")
    page = client.get("/grid/").get_data(as_text=True)
    assert 'rel="manifest"' in page
    manifest = client.get("/static/manifest.webmanifest")
    assert manifest.status_code == 200
    body = manifest.get_json(force=True)
    assert body["start_url"] == "/grid/" and body["display"] == "standalone"
    for icon in body["icons"]:
        assert client.get(icon["src"]).status_code == 200


# -- the attachment store's refusals ----------------------------------------------------------------
LIMIT = 1024 * 1024


def refused(filename: str, data: bytes, limit: int = LIMIT) -> str:
    with pytest.raises(InvalidInput) as error:
        check_file(filename, data, limit)
    return error.value.field_errors["file"].code


def test_a_type_not_on_the_allow_list_is_refused():
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    assert refused("a.gif", gif.getvalue()) == "attachment_type"
    assert refused("notes.txt", "楼道堆放杂物".encode()) == "attachment_type"
    assert refused("empty.jpg", b"") == "attachment_empty"


def test_a_file_over_the_size_limit_is_refused():
    assert refused("big.png", photo("PNG"), limit=100) == "file_too_large"


def test_a_disguised_file_is_refused_by_its_content():
    windows_program = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200
    assert refused("photo.jpg", windows_program) == "attachment_type"
    assert refused("photo.jpg", photo("PNG")) == "attachment_disguised"
    broken = photo()[:40]                          # a JPEG header and nothing that decodes
    assert refused("photo.jpg", broken) == "attachment_unreadable"


@pytest.mark.parametrize("name", ["../photo.jpg", "dir/photo.jpg", "C:\\photo.jpg",
                                  "..", "photo\x00.jpg", ""])
def test_a_path_in_the_file_name_is_refused(name):
    assert refused(name, photo()) == "attachment_name"


def test_a_plain_image_passes_and_keeps_its_pixels():
    checked = check_file("IMG_0001.JPG", photo(), LIMIT)
    assert checked.content_type == "image/jpeg" and checked.extension == "jpg"
    png = check_file("scan.png", photo("PNG"), LIMIT)
    with Image.open(io.BytesIO(png.data)) as image:
        assert image.getpixel((0, 0)) == (200, 30, 30)


def test_the_case_page_links_the_photo_for_its_handlers(client, services, app, grid_workers):
    sign_in(client, "grid_sm")
    report(client)
    with services.new_uow() as uow:
        case_no = uow.session.scalar(select(Case.case_no))
        attachment_id = uow.session.scalar(select(Attachment.id))
    triage = app.test_client()
    sign_in(triage, "triage_officer")        # the district centre sees every new case
    page = triage.get(f"/cases/{case_no}")
    assert page.status_code == 200
    assert f"/attachments/{attachment_id}" in page.get_data(as_text=True)
    assert triage.get(f"/attachments/{attachment_id}").status_code == 200
    own = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert f"/attachments/{attachment_id}" in own
