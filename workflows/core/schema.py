"""Alembic upgrades on the configured database or a given connection (tests share one)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Connection

import engine.models  # noqa: F401 - registers the engine tables
import workflows.models
from engine.db import Base
from workflows.core.settings import ROOT


def migrations_dir() -> Path:
    local = ROOT / "migrations"
    if (local / "env.py").exists():
        return local
    return Path(sys.prefix) / "share" / "jiefen" / "migrations"


def model_metadata() -> MetaData:
    """Every table of the models (each module of workflows.models imported): what head must equal."""
    for module in pkgutil.iter_modules(workflows.models.__path__):
        importlib.import_module(f"workflows.models.{module.name}")
    return Base.metadata


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
    try:
        with engine.connect() as conn:
            return list(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def pending(url: str) -> tuple[list[str], list[str]] | None:
    """(the database's revisions, this release's heads) when they differ — a database not yet
    upgraded, or one a newer release upgraded — else None."""
    heads = sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
    found = sorted(current(url))
    return (found, heads) if found != heads else None
