"""Routing through the services: every row of routing.dmn is hit by an intake, and the sample
cases C01-C06 (docs/case-services.md) get their expected lead department."""

from __future__ import annotations

import ast
from datetime import UTC, datetime

import pytest

from engine.deadlines import SHANGHAI
from engine.xmlsafe import safe_fromstring
from tests.factories import BPMN_DIR, IDS, Walk
from tests.process_fixtures import owner
from workflows.cases.parties import PartyInput
from workflows.processes.case_types import save_case_type

DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"


def rows() -> list[dict]:
    """Rules of route_case: input cells and named outputs, in order."""
    root = safe_fromstring((BPMN_DIR / "routing.dmn").read_bytes(), "routing.dmn")
    table = root.find(f"{DMN}decision/{DMN}decisionTable")
    inputs = [i.find(f"{DMN}inputExpression/{DMN}text").text for i in table.iter(f"{DMN}input")]
    outputs = [o.get("name") for o in table.iter(f"{DMN}output")]
    out = []
    for rule in table.iter(f"{DMN}rule"):
        cells = [e.find(f"{DMN}text").text.strip() for e in rule.iter(f"{DMN}inputEntry")]
        values = [e.find(f"{DMN}text").text.strip() for e in rule.iter(f"{DMN}outputEntry")]
        out.append({"id": rule.get("id"), "cells": dict(zip(inputs, cells, strict=True)),
                    "out": {k: ast.literal_eval(v) if v not in ("True", "False") else v == "True"
                            for k, v in zip(outputs, values, strict=True)
                            if not v.isidentifier() or v in ("True", "False")}})
    return out


def matches(cell: str, value) -> bool:
    if cell == "-":
        return True
    if cell.startswith(">="):
        return value >= int(cell[2:])
    if cell in ("True", "False"):
        return value is (cell == "True")
    return value == ast.literal_eval(cell)


def inputs_for(row: dict) -> dict:
    c = row["cells"]
    return {"emergency": c["emergency"] == "True",
            "category": "other" if c["category"] == "-" else ast.literal_eval(c["category"]),
            "urgency": "general" if c["urgency"] == "-" else ast.literal_eval(c["urgency"]),
            "people_count": int(c["people_count"][2:]) + 2 if c["people_count"] != "-" else 1}


ROWS = rows()


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_every_routing_row_is_hit_through_intake(services, clock, row):
    values = inputs_for(row)
    first = next(r for r in ROWS if all(matches(r["cells"][k], values[k]) for k in values))
    assert first["id"] == row["id"], "generated inputs must hit this row first"
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    if values["category"] == "petition":
        # a petition starts on the petition path by default (the shipped case type); these rows
        # route it when the process owners point 信访 back at general_dispute
        save_case_type(services.new_uow(), owner(), category="petition", process_id="general_dispute")
    walk.intake(channel="counter", category=values["category"], urgency=values["urgency"],
                people_count=values["people_count"], emergency=values["emergency"],
                summary="路由测试", description="路由测试",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"])])
    walk.do("register", category=values["category"], urgency=values["urgency"],
            people_count=str(values["people_count"]), summary="路由测试",
            emergency=str(values["emergency"]).lower())
    if values["emergency"]:
        walk.do("emergency_transfer", transfer_target="110", transfer_ref="110-1",
                follow_up_required="true")
    data, summary = walk.data(), walk.summary()
    expected = row["out"]
    assert (summary["tier"], summary["lead_department"]["code"], summary["risk_level"]) == \
        (expected["tier"], expected["department"], expected["risk_level"])
    assert (data["co_departments"], data["handling"], data["handling_deadline"]) == \
        (expected["co_departments"], expected["handling"], expected["handling_deadline"])
    next_task = "confirm_triage" if expected["triage_required"] else "sign_off"
    assert walk.ids() == [next_task]


SAMPLES = [  # (case, category, urgency, people, expected lead, co-departments)
    ("C01", "neighbour", "general", 2, "JDTJ", ["WY"]),
    ("C02", "property_collective", "general", 62, "ZJ", ["SJ", "JD", "SQTJ"]),
    ("C03", "labour_collective", "urgent", 14, "RS", ["ZJ", "FY", "JR", "GH", "GA", "SF"]),
    ("C04", "labour", "general", 1, "JDLT", ["RS"]),
    ("C05", "expropriation", "urgent", 1, "ZJ", ["JD", "SF", "PG", "XF"]),
    ("C06", "expropriation", "urgent", 23, "ZJ", ["JD", "SF", "PG", "XF", "GA"]),
]


@pytest.mark.parametrize("key,category,urgency,people,lead,co", SAMPLES,
                         ids=[s[0] for s in SAMPLES])
def test_sample_cases_get_their_lead_department(services, clock, key, category, urgency,
                                                people, lead, co):
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    walk.intake(channel="counter", category=category, urgency=urgency, people_count=people,
                summary=key, description=key,
                parties=[PartyInput(name="周海燕", id_number=IDS["周海燕"])])
    walk.do("register", category=category, urgency=urgency, people_count=str(people),
            summary=key)
    assert walk.summary()["lead_department"]["code"] == lead
    assert walk.data()["co_departments"] == co
