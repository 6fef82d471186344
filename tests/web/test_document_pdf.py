"""PDF downloads over HTTP: attachment headers, purpose for the full copy, 403 for an outsider."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from tests.web.conftest import post
from workflows.models import CaseDocument


def receipt_id(services) -> int:
    with services.session_factory() as session:
        return session.scalars(select(CaseDocument.id).where(
            CaseDocument.kind == "receipt")).one()


def text(response) -> str:
    reader = PdfReader(io.BytesIO(response.data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def test_receipt_pdf_masked_and_full_for_the_clerk(services, as_role, case_no):
    client = as_role("intake_clerk")
    path = f"/cases/{case_no}/documents/{receipt_id(services)}.pdf"
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert path in page and "下载 PDF" in page
    masked = client.get(path)
    assert masked.status_code == 200 and masked.mimetype == "application/pdf"
    assert masked.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in masked.headers["Cache-Control"]
    assert case_no in text(masked) and "周**" in text(masked) and "周海燕" not in text(masked)
    refused = post(client, path, {"purpose": ""})
    assert refused.status_code == 302                      # back to the case page, with a flash
    full = post(client, path, {"purpose": "contact"})
    assert full.status_code == 200 and "周海燕" in text(full)


def test_outsider_gets_403(services, as_role, case_no):
    client = as_role("mediator")
    assert client.get(f"/cases/{case_no}/documents/{receipt_id(services)}.pdf").status_code == 403
