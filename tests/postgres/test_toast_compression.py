"""PostgreSQL writes an instance's state and an audit payload with lz4 (migration 0044), where
the server has it: a step rewrites the whole state, and pglz took as long as not compressing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import PG

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def test_the_state_and_the_audit_payload_are_compressed_with_lz4(db_engine):
    with db_engine.connect() as connection:
        if not connection.scalar(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                      "WHERE name = 'default_toast_compression'")):
            pytest.skip("this PostgreSQL was built without lz4")
        methods = dict(connection.execute(text(
            "SELECT attrelid::regclass::text || '.' || attname, attcompression FROM pg_attribute "
            "WHERE (attrelid, attname) IN (('workflow_instance'::regclass, 'state'), "
            "('audit_event'::regclass, 'payload'))")).all())
    assert methods == {"workflow_instance.state": "l", "audit_event.payload": "l"}
