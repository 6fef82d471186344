"""The catalogues are complete: every string in web/ is extracted and has English, nothing is fuzzy,
and the main pages in English show no Chinese in the navbar or the page headings."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from lxml import etree
from lxml import html as lxml_html

from tests.web.conftest import login, post
from web.extensions import babel

WEB = Path(__file__).resolve().parents[2] / "web"
TRANSLATIONS = WEB / "translations"
LOCALES = ("en", "zh_Hans_CN")
# keywords of web/translations/update.py (Flask-Babel's lazy variants added to pybabel's)
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]+")
# role -> pages whose navbar and headings hold only translated text and codes
PAGES = {
    "mediator": ("/inbox", "/cases"),
    "intake_clerk": ("/cases/new",),
    "supervisor": ("/supervision/", "/reports/"),
    "auditor": ("/audit/", "/audit/chains", "/audit/access"),
    "process_owner": ("/processes/",),
    "admin": ("/admin/calendar/",),
}


def read_catalog(path: Path, locale: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def source_messages() -> set[str]:
    """Every msgid in web/ as update.py extracts it (templates and Python), and in the word
    tables below web/ it extracts too (workflows' words the pages translate)."""
    with (WEB / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = [message for _, _, message, _, _ in
             extract_from_dir(str(WEB), method_map, options_map, keywords=KEYWORDS)]
    spec = importlib.util.spec_from_file_location("jf_update", TRANSLATIONS / "update.py")
    update = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(update)
    for path in update.BELOW_WEB:
        with path.open("rb") as fh:
            found += [message for _, _, message, _ in extract_python(fh, KEYWORDS, [], {})]
    return {message if isinstance(message, str) else message[0] for message in found}


def test_the_element_words_of_workflows_are_extracted():
    """workflows/library/elements.py's words are msgids: the pages translate them."""
    assert {"排他网关", "中间捕获事件", "结束事件"} <= source_messages()


def test_every_string_in_web_is_in_the_template_catalogue():
    pot = {m.id for m in read_catalog(TRANSLATIONS / "messages.pot") if m.id}
    missing = sorted(source_messages() - pot)
    assert missing == [], "run web/translations/update.py and translate the new strings"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_extracted_message_is_in_the_locale_catalogue(locale):
    pot = {m.id for m in read_catalog(TRANSLATIONS / "messages.pot") if m.id}
    catalog = {m.id for m in read_catalog(po_path(locale), locale) if m.id}
    assert sorted(pot - catalog) == []


def test_every_extracted_message_has_an_english_translation():
    english = {m.id: m for m in read_catalog(po_path("en"), "en") if m.id}
    pot = [m.id for m in read_catalog(TRANSLATIONS / "messages.pot") if m.id]
    untranslated = [mid for mid in pot if mid not in english or not english[mid].string]
    assert untranslated == []
    # an English text still in Chinese is an untranslated entry with a copied msgid
    chinese = [mid for mid in pot if mid in english and CJK.search(english[mid].string)]
    assert chinese == []


@pytest.mark.parametrize("locale", LOCALES)
def test_no_entry_is_fuzzy(locale):
    catalog = read_catalog(po_path(locale), locale)
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


@pytest.fixture
def english_catalogues(app, tmp_path, monkeypatch):
    """The app serves catalogues compiled now from the .po files (.mo files are build output)."""
    spec = importlib.util.spec_from_file_location("jf_compile", TRANSLATIONS / "compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.compile_all(out=tmp_path, strict=True) == []
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(tmp_path)])
    # Flask-Babel caches loaded catalogues on the domain of its (process-wide) Babel object
    with app.app_context():
        monkeypatch.setattr(babel.domain_instance, "cache", {})
    return app


def process_names() -> list[str]:
    """Names in the test process (data: shown as written, in any language)."""
    tree = etree.parse(str(Path(__file__).parent / "fixtures" / "general_dispute.bpmn"))
    return [str(name) for name in tree.xpath("//*[local-name()='process']/@name")]


def visible_chinese(page: str, data: list[str]) -> dict[str, list[str]]:
    """Chinese text in the navbar and in the headings of <main>, except data and language names."""
    root = lxml_html.fromstring(page)
    # the user menu shows the user's name and department (data); the language switch names each
    # language in itself (lang="zh-Hans-CN")
    for element in root.xpath('//*[@data-testid="user-menu"] | //nav//*[@lang]'):
        element.drop_tree()
    areas = {"navbar": root.xpath('//nav[contains(@class, "navbar")]'),
             "headings": root.xpath("//main//*[self::h1 or self::h2 or self::h3 or self::h4"
                                    " or self::h5 or self::h6 or self::legend or self::th]")}
    found = {}
    for name, elements in areas.items():
        text = " ".join(" ".join(e.itertext()) for e in elements)
        for value in data:
            text = text.replace(value, "")
        if CJK.search(text):
            found[name] = CJK.findall(text)
    return found


def test_main_pages_in_english_show_no_chinese_in_navbar_and_headings(english_catalogues, users,
                                                                      case_no):
    problems = {}
    for role, paths in PAGES.items():
        client = english_catalogues.test_client()
        assert login(client, role).status_code == 302
        assert post(client, "/i18n/locale/en", {"next": "/inbox"}).status_code == 303
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (role, path)
            page = response.get_data(as_text=True)
            assert '<html lang="en"' in page
            found = visible_chinese(page, process_names())
            if found:
                problems[f"{role} {path}"] = found
    assert problems == {}
