"""The restore drill of docs/operations.md on a small database: dump with pg_dump, drop the
database, restore it with pg_restore, and the audit chains verify with the kept key file."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from engine.crypto import Keyring
from engine.db import make_engine
from tests.audit_support import CaseDriver, deploy
from tests.conftest import PG, _create_database, _drop_database
from workflows.audit.log import verify_chains
from workflows.models import Case

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)"),
              pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs pg_dump")]


def _tool(name: str, url, *args: str) -> None:
    subprocess.run([name, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                    "-U", url.username or "postgres", *args], check=True, capture_output=True)


def test_dump_drop_restore_and_the_chains_still_verify(committed_services, pg_server, tmp_path,
                                                       settings):
    services = committed_services
    deploy(services, "simple.bpmn")
    for number in range(3):
        driver = CaseDriver(services, f"TEST-R-{number}", "simple").open()
        driver.complete("mediate", {"amount": number, "outcome": "agreed"})
    url = make_url(services.settings.database_url)
    keys = tmp_path / "keys-backup.json"
    shutil.copy(settings.keys_path, keys)              # the key file is backed up separately
    dump = tmp_path / "jiefen.dump"
    services.db.dispose()

    _tool("pg_dump", url, "-Fc", "-f", str(dump), url.database)
    _drop_database(pg_server, url.database)
    _create_database(pg_server, url.database)
    _tool("pg_restore", url, "--no-owner", "-d", url.database, str(dump))

    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            with Session(bind=conn) as session:
                report = verify_chains(session, Keyring.load(keys), objects=True)
                cases = session.scalar(select(func.count()).select_from(Case))
    finally:
        engine.dispose()
    assert report.ok, report.breaks[:3]
    assert cases == 3 and report.events > 10
