"""History is never lost: every snapshot of an asset is an event, and events only grow."""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import pytest
import sqlalchemy as sa

from modelatlas.errors import MetadataInvalid, PreconditionFailed
from modelatlas.jsonsafe import canonical
from modelatlas.registry import (
    AssetCreate,
    AssetUpdate,
    Registry,
    RelationCreate,
    VersionRegistration,
)
from modelatlas.store.tables import events

REF = "dataset:finance/transactions@1"


def all_events(registry: Registry) -> list[Any]:
    with registry.db.read() as conn:
        return list(conn.execute(sa.select(events).order_by(events.c.seq)))


def test_every_snapshot_is_kept_in_order(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref=REF, metadata={"row_count": 0}, tags=["raw"]))
    for revision, rows in enumerate((10, 20, 30, 40), start=1):
        registry.update_asset(REF, AssetUpdate(metadata={"row_count": rows}),
                              expected_revision=revision)
    registry.update_asset(REF, AssetUpdate(tags=["clean"], metadata={"format": "parquet"}),
                          expected_revision=5)
    page = registry.history(REF)
    assert [e.action for e in page.items] == ["asset.created"] + ["asset.updated"] * 5
    assert [e.payload["revision"] for e in page.items] == [1, 2, 3, 4, 5, 6]
    assert [e.payload["metadata"].get("row_count") for e in page.items] == [
        0, 10, 20, 30, 40, 40
    ]
    assert page.items[-1].payload["metadata"] == {"row_count": 40, "format": "parquet",
                                                  "partitioned_by": []}
    assert [e.payload["tags"] for e in page.items] == [["raw"]] * 5 + [["clean"]]
    assert page.items[-1].payload["changed"] == ["metadata", "tags"]
    seqs = [e.seq for e in page.items]
    assert seqs == sorted(set(seqs))


def test_history_pages_without_losing_or_repeating(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref=REF))
    for revision in range(1, 7):
        registry.update_asset(REF, AssetUpdate(description=f"v{revision + 1}"),
                              expected_revision=revision)
    seen, cursor = [], None
    while True:
        page = registry.history(REF, cursor=cursor, limit=3)
        seen += [e.payload["revision"] for e in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(range(1, 8))


def busy_day(registry: Registry) -> None:
    """A mix of writes, including ones that fail and must leave no trace."""
    registry.update_asset(REF, AssetUpdate(description="edited"), expected_revision=1)
    with pytest.raises(PreconditionFailed):
        registry.update_asset(REF, AssetUpdate(description="stale"), expected_revision=1)
    with pytest.raises(MetadataInvalid):
        registry.create_asset(AssetCreate(ref="dataset:finance/bad@1",
                                          metadata={"row_count": "many"}))
    registry.register_version("fraud", "churn", VersionRegistration(datasets=[REF]))
    registry.add_relation(RelationCreate(source="model_version:fraud/churn@1",
                                         relation="requires", target=REF))
    registry.remove_relation("model_version:fraud/churn@1", "requires", REF)
    registry.set_namespace_schema("finance", "dataset", {"type": "object"})


def test_events_are_append_only_and_hashed(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref=REF, metadata={"row_count": 1}))
    before = all_events(registry)
    busy_day(registry)
    after = all_events(registry)
    assert after[: len(before)] == before, "an existing event was changed or removed"
    seqs = [row.seq for row in after]
    assert all(a < b for a, b in itertools.pairwise(seqs))
    actions = [row.action for row in after[len(before):]]
    assert actions.count("relation.removed") == 1
    assert actions.count("relation.added") == 4  # version_of, used, produced, requires
    for row in after:
        assert row.payload_sha256 == hashlib.sha256(row.payload.encode("utf-8")).hexdigest()
        assert canonical(json.loads(row.payload)).decode("utf-8") == row.payload
    feed = registry.events(after=before[-1].seq, limit=100).items
    assert [e.seq for e in feed] == seqs[len(before):]
