"""The search terms of a case: character bigrams, so Chinese text (which has no spaces between
words) is found by any two or more consecutive characters, on PostgreSQL and SQLite alike.

Text is cut into runs of letters and digits (NFKC, lower case); a run gives its bigrams in order
and then its last character alone ("木工工资" -> 木工 工工 工资 资), so a phrase of the bigrams
of a search word finds that word anywhere in the text and a single character is found as a
prefix. PostgreSQL stores them as a ``tsvector`` (written literally, with positions: no text
search parser or locale is involved); SQLite as the text an FTS5 table indexes.

On PostgreSQL the terms also carry facts of the case (``facts``): its category (``/c/labour``)
and every place on its place path (``/p/7``), without positions. A list that filters on them
ANDs them into the text query, so word, category and place are one intersection of the GIN
index before any row is read. A fact starts with ``/``, which no text term holds (terms are
letters and digits only), so neither a phrase nor a one-character prefix can meet one. SQLite's
FTS5 would cut a fact into words; it never stores them.
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


FACT = "/"


def facts(category: str | None, place_path: str | None) -> list[str]:
    """The case's category and the ids of its place and the places above it, as terms."""
    places = [part for part in (place_path or "").split("/") if part]
    return ([category_fact(category)] if category else []) + [place_fact(p) for p in places]


def category_fact(category: str) -> str:
    return f"{FACT}c{FACT}{category}"


def place_fact(place_id: int | str) -> str:
    return f"{FACT}p{FACT}{place_id}"


def case_terms(case_no: str | None, summary: str | None, detail: str | None,
               category: str | None, place_path: str | None) -> str:
    """The search terms a case stores: its text's, then its facts."""
    return " ".join([search_terms(case_no, summary, detail), *facts(category, place_path)]).strip()


def fts_text(terms: str) -> str:
    """The terms without their facts (what SQLite's FTS5 table indexes)."""
    return " ".join(term for term in terms.split() if not term.startswith(FACT))


class SearchTerms(TypeDecorator):
    """``tsvector`` on PostgreSQL, ``TEXT`` elsewhere; written from ``search_terms`` output."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(TSVECTOR() if dialect.name == "postgresql" else Text())

    def process_bind_param(self, value, dialect):
        if value is None:
            return value
        return tsvector_literal(value) if dialect.name == "postgresql" else fts_text(value)


def tsvector_literal(terms: str) -> str:
    """``'木工':1 '工工':2 … '/c/labour' '/p/1'`` (text terms are letters and digits, facts add
    ``/`` and ``_``: nothing to escape); facts have no position, so no phrase spans them."""
    split = terms.split()
    text = [term for term in split if not term.startswith(FACT)][:16383]
    return " ".join([*(f"'{term}':{n}" for n, term in enumerate(text, 1)),
                     *(f"'{term}'" for term in split if term.startswith(FACT))])


