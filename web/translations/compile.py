"""Compile every web/translations/<locale>/LC_MESSAGES/*.po into .mo with Babel's API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent


def catalog_problems(po_path: Path, catalog) -> list[str]:
    """Return format-string problems (e.g. a %(n)s missing in a translation) in one catalog."""
    problems = []
    for message, errors in catalog.check():
        for error in errors:
            problems.append(f"{po_path}:{message.lineno}: {message.id!r}: {error}")
    return problems


def untranslated(catalog) -> list[str]:
    """Return message ids that have no translation (empty or fuzzy)."""
    return [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]


def compile_catalog(po_path: Path, mo_path: Path, *, strict: bool) -> list[str]:
    """Compile one .po file to mo_path; return problems (untranslated ones only if strict)."""
    locale = po_path.parent.parent.name
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    problems = catalog_problems(po_path, catalog)
    # The source language is Chinese: an empty zh_Hans_CN msgstr falls back to the msgid.
    if strict and not locale.startswith("zh"):
        problems += [f"{po_path}: untranslated: {mid!r}" for mid in untranslated(catalog)]
    if not problems:
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
    return problems


def compile_all(src: Path = HERE, out: Path | None = None, *, strict: bool = False) -> list[str]:
    """Compile all catalogs under src (into out, mirroring the layout, if given)."""
    problems: list[str] = []
    for po_path in sorted(src.glob("*/LC_MESSAGES/*.po")):
        mo_path = (out or src) / po_path.relative_to(src).with_suffix(".mo")
        problems += compile_catalog(po_path, mo_path, strict=strict)
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: compile.py [--strict] [--out DIR]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strict", action="store_true", help="fail on untranslated entries")
    parser.add_argument("--out", type=Path, help="write .mo files here instead of next to .po")
    args = parser.parse_args(argv)
    problems = compile_all(out=args.out, strict=args.strict)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
