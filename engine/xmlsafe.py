"""The only XML entry point: a hardened parser for BPMN/DMN."""

from __future__ import annotations

from lxml import etree

from engine.errors import BpmnValidationError, Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_ELEMENTS = 20_000
MAX_DEPTH = 64


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def _refuse(filename: str, message: str) -> BpmnValidationError:
    return BpmnValidationError([Problem(filename, None, message)])


def safe_fromstring(data: bytes, filename: str) -> etree._Element:
    """Parse BPMN/DMN bytes with an explicit hardened parser; never lxml's global default."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise _refuse(filename, "file is larger than 2 MiB")
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise _refuse(filename, "DOCTYPE declarations are not allowed")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise _refuse(filename, f"not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise _refuse(filename, "DOCTYPE declarations are not allowed")
    _check_size(root, filename)
    return root


def _check_size(root: etree._Element, filename: str) -> None:
    count = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        count += 1
        if count > MAX_ELEMENTS:
            raise _refuse(filename, f"more than {MAX_ELEMENTS} XML elements")
        if depth >= MAX_DEPTH:
            raise _refuse(filename, f"XML nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in element)


def tostring(root: etree._Element) -> bytes:
    """Serialize an element tree as UTF-8 XML with a declaration."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
