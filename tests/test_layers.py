"""Guard: the layer contract holds even for a bare `pytest` run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


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
