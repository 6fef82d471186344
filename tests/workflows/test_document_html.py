"""Generated documents on the pages: Markdown as sanitized HTML, masks shown as typed."""

from __future__ import annotations

from workflows.library.instructions import render_document


def test_headings_stay_bold_and_masks_never_make_text_bold():
    html = render_document("# 人民调解协议书\n**一、当事人的基本情况**\n"
                           "- 申请人：刘*，电话 138****5678、被申请人 陈**，电话 139****1234\n"
                           "<script>alert(1)</script>")
    assert "<h1>人民调解协议书</h1>" in html
    assert "<strong>一、当事人的基本情况</strong>" in html
    assert "刘*，电话 138****5678、被申请人 陈**，电话 139****1234" in html
    assert html.count("<strong>") == 1
    assert "<script>" not in html and "# " not in html
