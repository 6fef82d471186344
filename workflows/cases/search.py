"""Free text on the case list: each word of ``q`` must match the case's code, summary or location
detail (character bigrams: PostgreSQL ``tsvector``, SQLite FTS5), the name of its place or of a
place above it, or — exactly, through the blind index — a party's ID number or mobile number
(docs/personal-data.md).

An ID number or phone is never compared in part: a word that is not a whole valid ID number or
mobile number never reaches the blind index, and the indexes are HMACs anyway. A search that used
the blind index is an access event (``parties_searched``: the kinds, never the values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, cast, false, func, literal_column, or_, select, table
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from engine.crypto import blind_index, normalize_id_number, normalize_phone
from engine.errors import FieldRefused
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.models import Case, CaseParty, Party, Place
from workflows.models.search_text import run_tokens, runs
from workflows.runtime.unit_of_work import UnitOfWork

MAX_QUERY = 100
MAX_WORDS = 5
MAX_PLACES = 50   # place names matching one word; more means the word is too common to help


def words(q: str) -> list[str]:
    """The words of a search (split on spaces, at most ``MAX_WORDS``); a phone number written
    with spaces ("+86 139 1234 5678") stays one word."""
    if _party_keys(q):
        return [q]
    return q.split()[:MAX_WORDS]


def party_kinds(q: str) -> list[str]:
    """Which blind indexes the words of ``q`` use (a whole ID number, a whole mobile number)."""
    return sorted({kind for word in words(q) for kind, _ in _party_keys(word)})


def _party_keys(word: str) -> list[tuple[str, str]]:
    keys = []
    for kind, normalize in (("id_number", normalize_id_number), ("phone", normalize_phone)):
        try:
            keys.append((kind, normalize(word)))
        except FieldRefused:
            continue
    return keys


def matches(uow: UnitOfWork, q: str) -> ColumnElement[bool]:
    """A WHERE clause on ``Case``: every word of ``q`` matches somewhere."""
    return match_forms(uow, q).indexed()


@dataclass
class MatchForms:
    """``matches`` two ways: as the text index asks it (``indexed``), and (PostgreSQL) as a
    check on each row another index found (``checked``: a walk of the registration order, my
    tasks). The planner estimates a phrase of several bigrams as if they were independent
    (three bigrams in 2 % of the cases each: 8 rows, when 19,000 match) and, given the choice,
    starts from the text index and reads every match; the checked form leaves it no such
    choice. ``indexed(facts)`` ANDs facts the list requires anyway (the category, a place
    above the case: ``search_text.facts``) into the text query, so that the GIN index
    intersects them with the word before any row is read."""

    dialect: str
    words: list[tuple[str | None, list[ColumnElement[bool]]]]   # (text word, other ways)

    def indexed(self, facts: Sequence[str] = ()) -> ColumnElement[bool]:
        return and_(*[or_(*([] if word is None else [_text(self.dialect, word, facts=facts)]),
                          *others) for word, others in self.words])

    def checked(self) -> ColumnElement[bool]:
        return and_(*[or_(*([] if word is None else [_text(self.dialect, word, indexed=False)]),
                          *others) for word, others in self.words])


def match_forms(uow: UnitOfWork, q: str) -> MatchForms:
    """The words of ``q`` with the places named like them (one lookup each)."""
    return MatchForms(uow.session.get_bind().dialect.name, [_word(uow, word) for word in words(q)])


def _word(uow: UnitOfWork, word: str) -> tuple[str | None, list[ColumnElement[bool]]]:
    keys = _party_keys(word)
    if keys:   # a whole ID or mobile number: summaries never hold one, only parties do
        return None, [or_(*[_party(uow, kind, value) for kind, value in keys])]
    paths = uow.session.scalars(select(Place.path).where(Place.name.contains(word, autoescape=True))
                                .order_by(Place.path).limit(MAX_PLACES)).all()
    return word, [Case.place_path.startswith(path, autoescape=True) for path in paths]


def _party(uow: UnitOfWork, kind: str, value: str) -> ColumnElement[bool]:
    column = Party.id_number_bidx if kind == "id_number" else Party.phone_bidx
    parties = select(Party.id).where(column == blind_index(uow.services.keyring, kind, value))
    return Case.id.in_(select(CaseParty.case_id).where(CaseParty.party_id.in_(parties)))


def _text(dialect: str, word: str, indexed: bool = True,
          facts: Sequence[str] = ()) -> ColumnElement[bool]:
    """The word's runs of letters and digits each as a phrase of its bigrams (a lone character
    as a prefix) against the case's search terms (workflows/models/search_text.py); on
    PostgreSQL with ``facts`` ANDed (SQLite's FTS5 holds none: the list's own conditions
    check them)."""
    phrases = [run_tokens(run)[:-1] or [run] for run in runs(word)]
    if not phrases:
        return false()
    if dialect == "postgresql":
        query = " & ".join([" <-> ".join(f"'{t}'" for t in p) + (":*" if len(p[0]) == 1 else "")
                            for p in phrases] + [f"'{fact}'" for fact in facts])
        terms = (Case.search_terms if indexed
                 else func.coalesce(Case.search_terms, cast("", TSVECTOR)))
        return terms.bool_op("@@")(cast(query, TSQUERY))
    match = " AND ".join('"' + " ".join(p) + '"' + ("*" if len(p[0]) == 1 else "")
                         for p in phrases)
    fts = table("case_search")
    return Case.id.in_(select(literal_column("rowid")).select_from(fts).where(
        literal_column("case_search").op("MATCH")(match)))


def record_party_search(uow: UnitOfWork, actor: Actor, q: str, *, found: int) -> bool:
    """Record a list search that used the blind index; True when an event was queued."""
    kinds = party_kinds(q)
    if not kinds:
        return False
    uow.audit.record(AuditAction.PARTIES_SEARCHED, actor, object_type="party_search",
                     kinds=kinds, results=found, in_scope=found, purpose="case_search",
                     decision="allow", rule="list_cases.search", ip=actor.ip,
                     session_hash=actor.session_hash)
    return True
