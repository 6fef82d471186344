"""Every validation rule a process owner meets: one failing fixture each, located by element id.

Fixtures live in tests/fixtures/bpmn/invalid/ (a .dmn with the same stem joins its .bpmn);
the 50 MB upload is generated here rather than stored in the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.deadlines import check_spec
from engine.errors import BpmnValidationError
from engine.problems import locate
from engine.specs import compile_bundle

INVALID = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn" / "invalid"
OPERATIONS = frozenset({"notify"})


def _files(stem: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(INVALID.glob(f"{stem}.*"))}


def _problems(files: dict[str, bytes]):
    """(errors, warnings) as the editor shows them (located on elements)."""
    try:
        bundle = compile_bundle(files, operations=OPERATIONS, check_spec=check_spec)
    except BpmnValidationError as exc:
        return locate(exc.problems, files), []
    return [], locate(bundle.warnings, files)


ERRORS = [
    # stem, element id (None: the whole file), words the message must contain
    ("doctype_xxe", None, "DOCTYPE"),
    ("entity_bomb", None, "DOCTYPE"),
    ("script_task", "run_script", "scripts are not allowed"),
    ("condition_import", "f_evil", "__import__"),
    ("timer_p2h", "bad_timer", "'P2H'"),
    ("unknown_operation", "call_out", "unknown service operation 'launch_missiles'"),
    ("bad_form_field", "fill_form", "form field amount: unknown field type 'money'"),
    ("personal_field", "collect", "form field applicant_phone: personal data"),
    ("missing_called_process", "call_missing", "no_such_process"),
    ("bad_dmn_cell", "rule_evil_in", "__import__"),
    ("bad_dmn_deadline", "rule_deadline_out", "'P2H'"),
]

WARNINGS = [
    ("unreachable", "orphan_task", "cannot be reached"),
    ("gateway_no_default", "choose", "no default flow"),
    ("user_task_no_role", "nobody", "no lane"),
]


@pytest.mark.parametrize(("stem", "element_id", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_each_error_rule_refuses_its_fixture_at_the_element(stem, element_id, words):
    files = _files(stem)
    errors, _ = _problems(files)
    assert errors, f"{stem} was accepted"
    [problem] = [p for p in errors if words in p.message]
    assert problem.element_id == element_id
    assert problem.file in files
    where = f"{problem.file}#{element_id}" if element_id else problem.file
    assert str(problem).startswith(where)


@pytest.mark.parametrize(("stem", "element_id", "words"), WARNINGS, ids=[w[0] for w in WARNINGS])
def test_each_warning_rule_flags_its_fixture_but_deploys(stem, element_id, words):
    errors, warnings = _problems(_files(stem))
    assert errors == []
    [problem] = [p for p in warnings if words in p.message]
    assert (problem.element_id, problem.severity) == (element_id, "warning")


def test_a_missing_decision_table_is_located_at_its_business_rule_task():
    errors, _ = _problems({"decide.bpmn": _files("bad_dmn_cell")["bad_dmn_cell.bpmn"]})
    assert [(p.element_id, "bad_cell" in p.message) for p in errors] == [("decide", True)]


def test_a_50_mb_upload_is_refused_without_parsing():
    big = b'<?xml version="1.0"?><definitions>' + b" " * (50 * 1024 * 1024) + b"</definitions>"
    errors, _ = _problems({"huge.bpmn": big})
    assert any("larger than" in p.message for p in errors)


def test_the_entity_is_never_expanded_into_the_message():
    errors, _ = _problems(_files("doctype_xxe"))
    assert all("root:" not in p.message for p in errors)


def test_every_fixture_in_the_folder_has_a_rule():
    stems = {p.stem for p in INVALID.iterdir()}
    assert stems == {e[0] for e in ERRORS} | {w[0] for w in WARNINGS}
