"""Extract messages from web/ (and the few word tables below it that pages translate) into
messages.pot and merge them into every locale's .po file."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

HERE = Path(__file__).resolve().parent
WEB = HERE.parent
# words that live below web/ (workflows writes them itself, in Chinese) and that pages translate:
# marked there with N_ (one of pybabel's default keywords)
BELOW_WEB = (WEB.parent / "workflows" / "library" / "elements.py",
             WEB.parent / "workflows" / "library" / "contract.py",
             WEB.parent / "workflows" / "audit" / "words.py",
             WEB.parent / "workflows" / "notify" / "words.py",
             WEB.parent / "workflows" / "models" / "words.py")
POT = HERE / "messages.pot"
LOCALES = ("zh_Hans_CN", "en")
# Flask-Babel's lazy variants are not among pybabel's default keywords.
KEYWORDS = ("-k", "lazy_gettext", "-k", "_l")


def pybabel(*args: str) -> None:
    """Run one pybabel subcommand in-process (raises SystemExit on failure)."""
    CommandLineInterface().run(["pybabel", "-q", *args])


def main() -> int:
    """Extract, then init missing catalogs and update existing ones."""
    pybabel(
        "extract",
        "-F",
        str(WEB / "babel.cfg"),
        *KEYWORDS,
        "--no-location",
        "--sort-output",
        "--project",
        "jiefen",
        "-o",
        str(POT),
        str(WEB),
        *map(str, BELOW_WEB),
    )
    for locale in LOCALES:
        po = HERE / locale / "LC_MESSAGES" / "messages.po"
        command = "update" if po.is_file() else "init"
        extra = ("--no-fuzzy-matching",) if command == "update" else ()
        pybabel(command, "-i", str(POT), "-d", str(HERE), "-l", locale, *extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
