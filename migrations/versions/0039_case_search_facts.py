"""The case's category and the places above it as facts in its search terms, on PostgreSQL.

``dispute_case.search_terms`` gains ``/c/<category>`` and ``/p/<place id>`` for each id of the
place path (``facts`` in workflows/models/search_text.py), without positions, so that the case
list ANDs a word with its category and place filters, and with a street unit's own place, in
one intersection of the GIN index. Existing rows are rewritten in batches of ids in SQL; the GIN
index is dropped for the rewrite and built again after it (one build instead of a million
updates of its entries). SQLite stores no facts (its FTS5 would cut them into words): nothing
to do there.

Revision ID: 0039_case_search_facts
Revises: 0038_case_street_order
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039_case_search_facts"
down_revision = "0038_case_street_order"
branch_labels = None
depends_on = None

INDEX = "ix_dispute_case_search_terms"
BATCH = 50_000
FACTS = ("array_to_tsvector(array_remove(ARRAY['/c/' || category], NULL) || "
         "ARRAY(SELECT '/p/' || part FROM unnest(string_to_array(place_path, '/')) AS part "
         "WHERE part <> ''))")


def upgrade() -> None:
    _rewrite(f"coalesce(search_terms, ''::tsvector) || {FACTS}")


def downgrade() -> None:
    _rewrite(f"ts_delete(search_terms, tsvector_to_array({FACTS}))")


def _rewrite(value: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    low, high = bind.execute(sa.text("SELECT min(id), max(id) FROM dispute_case")).one()
    if low is None:
        return
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.drop_index(INDEX, table_name="dispute_case")
    for start in range(low - 1, high, BATCH):
        bind.execute(sa.text(f"UPDATE dispute_case SET search_terms = {value} "
                             "WHERE id > :start AND id <= :end"),
                     {"start": start, "end": start + BATCH})
    op.create_index(INDEX, "dispute_case", ["search_terms"], postgresql_using="gin")
