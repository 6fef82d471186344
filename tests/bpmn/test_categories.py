"""Dispute categories are one code list: the BPMN register form and routing.dmn use its codes."""

from __future__ import annotations

import re
from pathlib import Path

from workflows.models import Category

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_the_register_form_offers_exactly_the_categories():
    text = (BPMN / "general_dispute.bpmn").read_text(encoding="utf-8")
    field = re.search(r'<camunda:formField id="category".*?</camunda:formField>', text, re.S)
    assert field is not None
    offered = re.findall(r'<camunda:value id="([a-z_]+)"', field.group(0))
    assert offered == [str(c) for c in Category]


def test_routing_dmn_routes_only_known_categories():
    text = (BPMN / "routing.dmn").read_text(encoding="utf-8")
    column = re.findall(r'<inputEntry id="route_case_r\d+_in1">\s*<text>([^<]*)</text>', text)
    assert column, "the category column (input 1) of route_case was not found"
    used = {code for entry in column for code in re.findall(r"'([a-z_]+)'", entry)}
    assert used and used <= {str(c) for c in Category}
