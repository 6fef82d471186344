"""Every code list has its labels: adding a code without words fails here."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from web.labels import CODE_LISTS, TABLES
from workflows.cases.parties import PURPOSES, RECORDED_PURPOSES
from workflows.models import (
    CATEGORY_LABELS,
    PARTY_ROLE_LABELS,
    RISK_LABELS,
    STATUS_LABELS,
    VERSION_STATUS_LABELS,
    WARNING_KIND_LABELS,
    WARNING_STATE_LABELS,
    CaseStatus,
    Category,
    PartyRole,
    RiskLevel,
    VersionStatus,
    WarningKind,
    WarningState,
)
from workflows.replay.export import EXPORT_PURPOSES

# every purpose an access event can record (the case history says them in these words)
PURPOSE_WORDS = {**PURPOSES, **RECORDED_PURPOSES, **EXPORT_PURPOSES}
# the Chinese words workflows writes itself (notices, documents, CLI), beside their enums
WORKFLOWS_WORDS = [(STATUS_LABELS, CaseStatus, "status"),
                   (PARTY_ROLE_LABELS, PartyRole, "party_role"),
                   (VERSION_STATUS_LABELS, VersionStatus, "process_status"),
                   (CATEGORY_LABELS, Category, "category"),
                   (WARNING_STATE_LABELS, WarningState, "warning_state"),
                   (WARNING_KIND_LABELS, WarningKind, "warning_kind"),
                   (PURPOSE_WORDS, tuple(PURPOSE_WORDS), "purpose"),
                   (RISK_LABELS, RiskLevel, None)]


def test_every_label_table_names_its_code_list():
    assert set(TABLES) == set(CODE_LISTS)


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_every_code_has_a_label_and_no_label_invents_a_code(app, kind):
    codes = {str(code) for code in CODE_LISTS[kind]}
    assert codes == {str(code) for code in TABLES[kind]}, kind
    with app.test_request_context(), force_locale("en"):
        untranslated = [code for code, text in TABLES[kind].items()
                        if any("\u4e00" <= ch <= "\u9fff" for ch in str(text))]
    assert untranslated == [], f"{kind}: no English for {untranslated}"


@pytest.mark.parametrize(("words", "enum", "kind"), WORKFLOWS_WORDS,
                         ids=[kind or "risk" for *_, kind in WORKFLOWS_WORDS])
def test_workflows_chinese_words_cover_their_code_list_and_match_the_pages(app, words, enum, kind):
    assert set(words) == set(enum)
    if kind is None:  # notices say 红色 where a page cell says 红
        return
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert {code: str(TABLES[kind][code]) for code in enum} == dict(words)
