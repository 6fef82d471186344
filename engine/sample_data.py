"""Sample start data for a dry run, from what a process declares it starts with.

A process declares its start data as a form on its start event (``camunda:formData``, as
Camunda-style models do) or as ``bpmn:dataInput`` items of its ``ioSpecification``. Each field
gets a value of its type (an enum its first option, a number its minimum or 1, a date the run's
day), so a dry run starts on data shaped like a real start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from lxml import etree

from engine.bpmn_parser import BPMN_NS, read_form
from engine.errors import BpmnValidationError
from engine.xmlsafe import safe_fromstring


def declared_start_data(files: Mapping[str, str | bytes], process_id: str,
                        today: date) -> dict[str, Any]:
    """Sample values for the start data ``process_id`` declares ({} when it declares none)."""
    process = _process(files, process_id)
    if process is None:
        return {}
    data: dict[str, Any] = {}
    for item in process.iterfind(f"{{{BPMN_NS}}}ioSpecification/{{{BPMN_NS}}}dataInput"):
        name = item.get("name") or item.get("id")
        if name:
            data[name] = ""
    for start in process.iterfind(f"{{{BPMN_NS}}}startEvent"):
        for field in read_form(start):
            if field.get("id"):
                data[field["id"]] = sample_value(field, today)
    return data


def sample_value(field: Mapping[str, Any], today: date) -> Any:
    """A value of the field's type that its constraints accept."""
    kind = field.get("type") or "string"
    default = field.get("default")
    options = field.get("options") or []
    validation = field.get("validation") or {}
    if kind == "enum":
        return default if default is not None else (options[0][0] if options else "")
    if kind == "enums":
        return [options[0][0]] if options else []
    if kind == "boolean":
        return str(default).lower() == "true" if default is not None else False
    if kind == "long":
        for value in (default, validation.get("min"), "1"):
            try:
                return int(str(value))
            except (TypeError, ValueError):
                continue
    if kind == "date":
        return default or today.isoformat()
    if default is not None:
        return default
    length = _int(validation.get("minlength")) or 0
    text = str(field.get("label") or field.get("id") or "示例")
    return (text * (length // max(len(text), 1) + 1))[:max(length, len(text))]


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _process(files: Mapping[str, str | bytes], process_id: str) -> etree._Element | None:
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        data = files[name]
        try:
            root = safe_fromstring(data.encode("utf-8") if isinstance(data, str) else data, name)
        except BpmnValidationError:
            continue
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") == process_id:
                return process
    return None
