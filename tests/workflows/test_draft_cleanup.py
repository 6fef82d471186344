"""Drafts close when their content is deployed (by any path) and old drafts are listed for cleanup."""

from __future__ import annotations

from tests.process_fixtures import owner, process_files
from workflows.processes import drafts
from workflows.processes.deploy import deploy_bundle

OWNER = owner()


def _ids(services) -> list[int]:
    with services.new_uow() as uow:
        return [d.id for d in drafts.list_drafts(uow)]


def test_deploying_the_same_files_closes_the_draft_and_keeps_the_others(services):
    same = drafts.save_draft(services.new_uow(), OWNER, process_files("mediation_v1"))
    other = drafts.save_draft(services.new_uow(), OWNER, process_files("mediation_v2"))
    deploy_bundle(services.new_uow(), OWNER, process_files("mediation_v1"))  # e.g. the API or CLI
    assert _ids(services) == [other.id] and same.id != other.id


def test_old_drafts_are_listed_and_only_stale_ones_are_deleted(services, clock):
    old = drafts.save_draft(services.new_uow(), OWNER, process_files("mediation_v1"),
                            title="旧草稿")
    clock.advance(days=31)
    fresh = drafts.save_draft(services.new_uow(), OWNER, process_files("mediation_v2"),
                              title="新草稿")
    assert [d.id for d in drafts.stale_drafts(services.new_uow(), OWNER)] == [old.id]
    assert [d.id for d in drafts.stale_drafts(services.new_uow(), OWNER, days=40)] == []
    gone = drafts.delete_stale(services.new_uow(), OWNER, [old.id, fresh.id])
    assert gone == 1 and _ids(services) == [fresh.id]
