"""File fields speak the page's language: the browser's own "Choose Files / No file chosen" follows
the browser's language, so the intake form draws its own button and status line. The field stays
reachable by keyboard and the chosen names are shown. Screenshot in docs/screenshots/."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_intake_form import PASSWORD, base  # noqa: F401  (fixture)


def _sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def _preview_intake(page, base_url: str) -> None:
    """The file field appears with the save button, after the duplicate check's preview."""
    page.goto(f"{base_url}/cases/new")
    page.select_option("[name=category]", "neighbour")
    page.fill("[name=summary]", "楼上漏水")
    page.fill("[name=description]", "楼上卫生间漏水到楼下")
    page.fill('[name="parties-0-name"]', "韦春生")
    page.fill('[name="parties-1-name"]', "杨光荣")
    with page.expect_navigation():
        page.click("[data-testid=preview]")


def test_file_field_button_and_chosen_names_follow_the_page_language(
        page, browser_log, base, screenshot_dir, tmp_path):  # noqa: F811
    _sign_in(page, base)
    _preview_intake(page, base)
    field = page.locator("[data-testid=attachments-field]")
    expect(field.locator("label.btn")).to_have_text("选择文件")
    expect(page.locator("#f-attachments-status")).to_have_text("未选择文件")
    expect(page.locator("#f-attachments")).to_have_attribute(
        "accept", "image/jpeg,image/png,image/webp,application/pdf")

    first, second = tmp_path / "工资表.pdf", tmp_path / "现场.pdf"
    for path in (first, second):
        path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.set_input_files("#f-attachments", [str(first)])
    expect(page.locator("#f-attachments-status")).to_have_text("工资表.pdf")
    page.set_input_files("#f-attachments", [str(first), str(second)])
    expect(page.locator("#f-attachments-status")).to_have_text("已选择 2 个文件：工资表.pdf、现场.pdf")

    # keyboard users reach the hidden input itself; its button shows the focus
    page.focus("#f-attachments")
    assert page.evaluate("document.activeElement.id") == "f-attachments"
    ring = page.evaluate(
        "getComputedStyle(document.querySelector('label.btn[for=f-attachments]')).outlineStyle")
    assert ring == "solid"
    field.screenshot(path=str(screenshot_dir / "intake-file-field.png"))

    page.click("text=语言")
    with page.expect_navigation():
        page.click("button[lang=en]")
    _preview_intake(page, base)
    expect(field.locator("label.btn")).to_have_text("Choose file")
    expect(page.locator("#f-attachments-status")).to_have_text("No file chosen")
    assert "选择文件" not in field.inner_text()
    assert not browser_log.problems(), browser_log.problems()
