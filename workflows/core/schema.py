"""Alembic upgrades on the configured database or a given connection (tests share one)."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from workflows.core.settings import ROOT


def migrations_dir() -> Path:
    local = ROOT / "migrations"
    if (local / "env.py").exists():
        return local
    return Path(sys.prefix) / "share" / "jiefen" / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, *, connection: Connection | None = None,
            revision: str = "heads") -> None:
    """Upgrade to ``revision`` (default: every head)."""
    command.upgrade(alembic_config(url, connection), revision)


def current(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        return list(MigrationContext.configure(conn).get_current_heads())
