"""Free-text search of the case list: ``dispute_case.search_terms`` (character bigrams of the code,
summary and location detail; workflows/models/search_text.py), a ``tsvector`` with a GIN index on
PostgreSQL; on SQLite a TEXT column indexed by the FTS5 table ``case_search`` (external content,
kept in step by triggers). The list's keyset index on (registered_at, id).

On SQLite a later batch migration that rebuilds ``dispute_case`` drops these triggers: such a
migration must create them again (``create_sqlite_triggers``).

Revision ID: 0015_case_search
Revises: 0014_iot_alarms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from workflows.models.search_text import search_terms, tsvector_literal

revision = "0015_case_search"
down_revision = "0014_iot_alarms"
branch_labels = None
depends_on = None

BATCH = 5000
TRIGGERS = {
    "case_search_ai": "AFTER INSERT ON dispute_case BEGIN "
                      "INSERT INTO case_search(rowid, search_terms) VALUES (new.id, new.search_terms); END",
    "case_search_ad": "AFTER DELETE ON dispute_case BEGIN "
                      "INSERT INTO case_search(case_search, rowid, search_terms) "
                      "VALUES ('delete', old.id, old.search_terms); END",
    "case_search_au": "AFTER UPDATE OF search_terms ON dispute_case BEGIN "
                      "INSERT INTO case_search(case_search, rowid, search_terms) "
                      "VALUES ('delete', old.id, old.search_terms); "
                      "INSERT INTO case_search(rowid, search_terms) VALUES (new.id, new.search_terms); END",
}


def create_sqlite_triggers() -> None:
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("dispute_case") as batch:
        batch.add_column(sa.Column("search_terms", TSVECTOR() if pg else sa.Text(), nullable=True))
        batch.create_index("ix_dispute_case_registered_at_id", ["registered_at", "id"])
    _fill(pg)
    if pg:
        op.create_index("ix_dispute_case_search_terms", "dispute_case", ["search_terms"],
                        postgresql_using="gin")
    else:
        op.execute("CREATE VIRTUAL TABLE case_search USING fts5(search_terms, content='dispute_case', "
                   "content_rowid='id', tokenize='unicode61')")
        op.execute("INSERT INTO case_search(case_search) VALUES ('rebuild')")
        create_sqlite_triggers()


def _fill(pg: bool) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, case_no, summary, location_detail FROM dispute_case WHERE id > :last "
            "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        values = [{"id": row.id, "terms": _terms(pg, row)} for row in rows]
        bind.execute(sa.text("UPDATE dispute_case SET search_terms = "
                             + ("CAST(:terms AS tsvector)" if pg else ":terms")
                             + " WHERE id = :id"), values)
        last = rows[-1].id


def _terms(pg: bool, row) -> str:
    terms = search_terms(row.case_no, row.summary, row.location_detail)
    return tsvector_literal(terms) if pg else terms


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_dispute_case_search_terms", table_name="dispute_case")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search")
    with op.batch_alter_table("dispute_case") as batch:
        batch.drop_index("ix_dispute_case_registered_at_id")
        batch.drop_column("search_terms")
