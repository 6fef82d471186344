"""The directory stamp moved by triggers: any INSERT, UPDATE or DELETE (on PostgreSQL also
TRUNCATE) of ``department``, ``place`` or ``role`` draws a new token in the same statement, so
SQL text (a migration's ``op.execute``, psql by hand) moves it too (workflows/models/directory.py).
PostgreSQL: one statement trigger per table, before the statement (the stamp's row lock is then
taken before any directory row's, so two directory writers queue instead of deadlocking);
SQLite, which has row triggers only: one per table and kind of write; a later revision that
rebuilds one of these tables on SQLite (a batch "move and copy") must create its triggers again.

Revision ID: 0043_directory_stamp_triggers
Revises: 0042_rollup_parked
"""

from __future__ import annotations

from alembic import op

revision = "0043_directory_stamp_triggers"
down_revision = "0042_rollup_parked"
branch_labels = None
depends_on = None

TABLES = ("department", "place", "role")
WRITES = ("insert", "update", "delete")
BUMP = """
CREATE FUNCTION directory_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_stamp
       SET version = version + 1, token = floor(random() * 4611686018427387904)::bigint
     WHERE id = 1;
    RETURN NULL;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BUMP)
        for table in TABLES:
            op.execute(f"CREATE TRIGGER directory_stamp_{table} BEFORE INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION directory_stamp_bump()")
        return
    for table in TABLES:
        for write in WRITES:
            op.execute(f"CREATE TRIGGER directory_stamp_{table}_{write} AFTER {write} ON {table} "
                       "BEGIN UPDATE directory_stamp SET version = version + 1, "
                       "token = random() & 4611686018427387903 WHERE id = 1; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER directory_stamp_{table} ON {table}")
        op.execute("DROP FUNCTION directory_stamp_bump()")
        return
    for table in TABLES:
        for write in WRITES:
            op.execute(f"DROP TRIGGER directory_stamp_{table}_{write}")
