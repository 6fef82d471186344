"""Compile a BPMN/DMN bundle into specs (deploy validation) and cache specs per process version."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn_parser import JiefenParser
from engine.errors import BpmnValidationError, Problem
from engine.limits import DEFAULT_MAX_CARDINALITY
from engine.lint import by_severity, lint_bpmn, lint_dmn
from engine.script_engine import FUNCTION_NAMES

MAX_BUNDLE_BYTES = 10 * 1024 * 1024
LOGICAL_NAME = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,120}\.(bpmn|dmn)$")


@dataclass
class CompiledBundle:
    """A validated bundle: source and normalized files, specs, and non-blocking warnings."""

    source_files: dict[str, str]
    engine_files: dict[str, str]
    parser: JiefenParser
    process_ids: list[str]
    top_process_ids: list[str]
    decision_ids: list[str]
    warnings: list[Problem] = field(default_factory=list)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, name: str, build: Callable[[dict[str, str]], Any]) -> Any:
        """``build(engine_files)`` computed once per compiled bundle (a bundle never changes)."""
        if name not in self._derived:
            self._derived[name] = build(self.engine_files)
        return self._derived[name]

    @property
    def sha256(self) -> str:
        return bundle_sha256(self.source_files)

    def spec(self, process_id: str) -> BpmnProcessSpec:
        return self.parser.get_spec(process_id)

    def subprocess_specs(self, process_id: str) -> dict:
        return self.parser.get_subprocess_specs(process_id)


def bundle_sha256(files: Mapping[str, str | bytes]) -> str:
    """sha256 over the sorted (logical filename, bytes) pairs."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        raw = data.encode("utf-8") if isinstance(data, str) else data
        digest.update(name.encode("utf-8") + b"\0" + len(raw).to_bytes(8, "big") + raw)
    return digest.hexdigest()


def compile_bundle(files: Mapping[str, bytes | str], *, operations: frozenset[str] | None = None,
                   check_spec: Callable[[str], None] | None = None,
                   max_cardinality: int = DEFAULT_MAX_CARDINALITY) -> CompiledBundle:
    """Validate and parse a bundle; raise BpmnValidationError naming every file, element and reason."""
    raw = {name: data.encode("utf-8") if isinstance(data, str) else data
           for name, data in files.items()}
    problems = _limits(raw)
    if problems:
        raise BpmnValidationError(problems)
    parser = JiefenParser()
    engine_files: dict[str, str] = {}
    for name in sorted(raw, key=lambda n: (not n.endswith(".dmn"), n)):  # DMN first: tasks need them
        problems.extend(_add_file(parser, name, raw[name], engine_files, operations, check_spec,
                                  max_cardinality))
    errors = by_severity(problems, "error")
    if errors:
        raise BpmnValidationError(errors)
    bundle = _build(parser, raw, engine_files)
    bundle.warnings = by_severity(problems, "warning")
    return bundle


_compile_new = compile_bundle   # kept as defined: the test run shares compile_bundle's results


def own_bundle(files: Mapping[str, bytes | str]) -> CompiledBundle:
    """A compiled bundle nobody else holds, whose specs the caller may change (the replay's,
    when it withholds lost results); never one shared by a cache, in production or in tests."""
    return _compile_new(files)


def _limits(raw: Mapping[str, bytes]) -> list[Problem]:
    problems = []
    if not raw:
        problems.append(Problem("(bundle)", None, "no files"))
    if sum(len(v) for v in raw.values()) > MAX_BUNDLE_BYTES:
        problems.append(Problem("(bundle)", None, "bundle is larger than 10 MiB"))
    for name in raw:
        if not LOGICAL_NAME.match(name):
            problems.append(Problem(name, None, "file name must be a plain name ending in "
                                                ".bpmn or .dmn (no folders)"))
    return problems


def _add_file(parser: JiefenParser, name: str, data: bytes, engine_files: dict[str, str],
              operations: frozenset[str] | None,
              check_spec: Callable[[str], None] | None,
              max_cardinality: int = DEFAULT_MAX_CARDINALITY) -> list[Problem]:
    try:
        if name.endswith(".dmn"):
            root = parser.add_dmn_bytes(data, name)
            engine_files[name] = etree.tostring(root, encoding="unicode")
            return lint_dmn(root, name, functions=FUNCTION_NAMES, check_spec=check_spec)
        root = parser.add_bpmn_bytes(data, name)
        engine_files[name] = etree.tostring(root, encoding="unicode")
        return lint_bpmn(root, name, functions=FUNCTION_NAMES, operations=operations,
                         check_spec=check_spec, max_cardinality=max_cardinality)
    except BpmnValidationError as exc:
        return exc.problems
    except ValidationException as exc:
        return [Problem(name, getattr(exc, "id", None) or None, _message(exc))]
    except (SpiffWorkflowException, etree.LxmlError, KeyError, ValueError) as exc:
        return [Problem(name, None, _message(exc))]


def _message(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


def _build(parser: JiefenParser, raw: Mapping[str, bytes],
           engine_files: dict[str, str]) -> CompiledBundle:
    process_ids = list(parser.process_parsers)
    called = set()
    for text in engine_files.values():
        called.update(re.findall(r'calledElement="([^"]+)"', text))
    problems = [Problem("(bundle)", None, f"called process {target!r} is not in the bundle")
                for target in sorted(called - set(process_ids))]
    top = [pid for pid in process_ids if pid not in called and _executable(parser, pid)]
    specs_ok: list[Problem] = []
    for pid in top:
        try:
            parser.get_spec(pid)
            parser.get_subprocess_specs(pid)
        except (ValidationException, SpiffWorkflowException, KeyError) as exc:
            specs_ok.append(Problem(_file_of(parser, pid), getattr(exc, "id", None) or pid,
                                    _message(exc)))
    if problems or specs_ok:
        raise BpmnValidationError(problems + specs_ok)
    decisions = list(getattr(parser, "dmn_parsers", {}))
    return CompiledBundle({n: v.decode("utf-8") for n, v in raw.items()}, engine_files, parser,
                          process_ids, top, decisions)


def _executable(parser: JiefenParser, process_id: str) -> bool:
    return bool(parser.process_parsers[process_id].process_executable)


def _file_of(parser: JiefenParser, process_id: str) -> str:
    return parser.process_parsers[process_id].filename or "(bundle)"


class SpecLibrary:
    """LRU cache of compiled bundles by process version id; ``loader(version_id)`` gives engine_files."""

    def __init__(self, loader: Callable[[str], Mapping[str, str]], size: int = 64):
        self.loader = loader
        self.size = size
        self._cache: OrderedDict[str, CompiledBundle] = OrderedDict()
        self._lock = Lock()

    def bundle(self, version_id: str,
               files: Callable[[], Mapping[str, str]] | None = None) -> CompiledBundle:
        """The compiled bundle of a version; ``files`` reads it through the caller's session."""
        key = str(version_id)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        bundle = compile_bundle(files() if files is not None else self.loader(key))
        with self._lock:
            self._cache[key] = bundle
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return bundle

    def lookup(self, spec_version: str) -> tuple[BpmnProcessSpec, dict]:
        """``spec_version`` is '<version id>:<process id>' as stamped on every instance."""
        version_id, _, process_id = str(spec_version).partition(":")
        bundle = self.bundle(version_id)
        return bundle.spec(process_id), bundle.subprocess_specs(process_id)

