"""Guard: no file of the product carries the conflict markers a merge leaves behind (a reader of
docs/ would meet them as text, a template would show them on a page)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("docs", "engine", "workflows", "web", "bpmn", "migrations", "benchmarks", "tests")
SUFFIXES = {".md", ".py", ".html", ".po", ".bpmn", ".dmn", ".js", ".css", ".json", ".cfg", ".txt"}
SKIP = {"static", "node_modules", "__pycache__"}
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def test_no_file_holds_merge_conflict_markers():
    found = []
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in SUFFIXES and not SKIP & set(path.parts) and path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                found += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
                          for m in MARKER.finditer(text)]
    assert not found, found
