"""Guard: the layer contracts hold and no module imports itself round a cycle, even for a bare
`pytest` run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def _imports() -> dict[str, set[str]]:
    """Module -> project modules it imports, inside functions too (``TYPE_CHECKING`` blocks aside)."""
    files = {}
    for root in ("engine", "workflows", "web"):
        for path in (ROOT / root).rglob("*.py"):
            if "static" in path.parts or "node_modules" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            files[name] = path

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets |= {f"{base}.{alias.name}" for alias in node.names} | {base}
        found = {resolve(t) for t in targets}
        graph[name] = {t for t in found if t and t != name and not name.startswith(t + ".")}
    return graph


def test_no_import_cycles():
    graph, cycles = _imports(), []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert cycles == []


def test_no_xml_parsing_outside_xmlsafe():
    offenders = []
    for path in list((ROOT / "engine").rglob("*.py")) + list((ROOT / "workflows").rglob("*.py")) \
            + list((ROOT / "web").rglob("*.py")):
        if path.name == "xmlsafe.py":
            continue
        text = path.read_text(encoding="utf-8")
        for banned in ("etree.fromstring(", "etree.parse(", "etree.iterparse(", "add_bpmn_file",
                       "add_bpmn_str", "add_dmn_file", "add_dmn_str", "set_default_parser("):
            if banned in text:
                offenders.append(f"{path.relative_to(ROOT)}: {banned}")
    assert offenders == []
