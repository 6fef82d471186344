"""The search terms of a case: character bigrams, so Chinese text (which has no spaces between
words) is found by any two or more consecutive characters, on PostgreSQL and SQLite alike.

Text is cut into runs of letters and digits (NFKC, lower case); a run gives its bigrams in order
and then its last character alone ("木工工资" -> 木工 工工 工资 资), so a phrase of the bigrams
of a search word finds that word anywhere in the text and a single character is found as a
prefix. PostgreSQL stores them as a ``tsvector`` (written literally, with positions: no text
search parser or locale is involved); SQLite as the text an FTS5 table indexes.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.types import TypeDecorator

_RUN = re.compile(r"[^\W_]+")


def runs(text: str | None) -> list[str]:
    """Runs of letters and digits, folded (NFKC, lower case)."""
    return _RUN.findall(unicodedata.normalize("NFKC", text or "").lower())


def run_tokens(run: str) -> list[str]:
    """The bigrams of a run, then its last character."""
    return [run[i:i + 2] for i in range(len(run) - 1)] + [run[-1]]


def search_terms(*texts: str | None) -> str:
    """The space-separated terms of the texts, in order."""
    return " ".join(token for text in texts for run in runs(text) for token in run_tokens(run))


class SearchTerms(TypeDecorator):
    """``tsvector`` on PostgreSQL, ``TEXT`` elsewhere; written from ``search_terms`` output."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(TSVECTOR() if dialect.name == "postgresql" else Text())

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "postgresql":
            return value
        return tsvector_literal(value)


def tsvector_literal(terms: str) -> str:
    """``'木工':1 '工工':2 …`` (terms are letters and digits only: nothing to escape)."""
    return " ".join(f"'{term}':{n}" for n, term in enumerate(terms.split()[:16383], 1))


