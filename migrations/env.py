"""Alembic environment: runs on the connection or URL handed over by workflows.core.schema."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, inspect, pool, text
from sqlalchemy.engine import Connection

from workflows.core.schema import model_metadata

config = context.config
target_metadata = model_metadata()

# Ids of the former branched history -> the linear revision with the same schema (docs/operations.md)
RENAMED = {"0004_merge": "0005_web", "0005_checkpoint_append_only": "0006_checkpoint_append_only",
           "0006_merge": "0007_sla_failures", "0007_district": "0008_district"}


def adopt_renamed_revision(connection: Connection) -> None:
    """A database stamped with a former id continues from its linear equivalent."""
    if not inspect(connection).has_table("alembic_version"):
        return
    stamped = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(stamped) == 1 and stamped[0] in RENAMED:
        connection.execute(text("UPDATE alembic_version SET version_num = :new"),
                           {"new": RENAMED[stamped[0]]})


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # in the caller's transaction
        adopt_renamed_revision(connection)
        run(connection)
        return
    connectable = engine_from_config(config.get_section(config.config_ini_section) or {},
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.begin() as conn:
        adopt_renamed_revision(conn)
    with connectable.connect() as conn:
        run(conn)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
