"""A dataset written under metadata schema version 1 (``rows``, bare ``sha256``), stored the
way the old code stored it, is read as version 2 and written back as version 2."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from modelatlas.jsonsafe import canonical
from modelatlas.registry import AssetUpdate, Registry
from modelatlas.store.tables import assets, events

REF = "dataset:finance/legacy@1"
SHA = hashlib.sha256(b"legacy rows").hexdigest()
V1_META = {"location": "s3://lake/legacy", "format": "csv", "rows": 1000, "sha256": SHA}
NOW = "2024-01-02T03:04:05.000000Z"


def insert_v1_record(registry: Registry) -> None:
    values: dict[str, Any] = {
        "kind": "dataset", "namespace": "finance", "name": "legacy", "version": "1",
        "version_number": 1, "description": "from 2024", "owners": ["data-eng"],
        "tags": [], "meta": V1_META, "custom": {}, "schema_version": 1, "state": "active",
        "digests": {}, "revision": 1, "created_at": NOW, "created_by": "old-code",
        "updated_at": NOW, "updated_by": "old-code",
    }
    snapshot = {
        "ref": REF, "description": "from 2024", "owners": ["data-eng"], "tags": [],
        "metadata": V1_META, "custom": {}, "schema_version": 1, "state": "active",
        "digests": {}, "revision": 1,
    }
    body = canonical(snapshot)
    with registry.db.write() as conn:
        asset_id = conn.execute(assets.insert().values(values).returning(assets.c.id)).scalar()
        conn.execute(events.insert().values(
            time=NOW, actor="old-code", action="asset.created", ref=REF, asset_id=asset_id,
            payload=body.decode(), payload_sha256=hashlib.sha256(body).hexdigest(),
        ))


def stored_row(registry: Registry) -> Any:
    with registry.db.read() as conn:
        return conn.execute(sa.select(assets).where(assets.c.name == "legacy")).one()


UPGRADED = {"location": "s3://lake/legacy", "format": "csv", "row_count": 1000,
            "digest": f"sha256:{SHA}"}


def test_reads_upgrade_an_old_record(registry: Registry) -> None:
    insert_v1_record(registry)
    asset = registry.get_asset(REF)
    assert asset.metadata == UPGRADED
    assert asset.schema_version == 2
    [listed] = registry.list_assets(kind="dataset").items
    assert listed.metadata == UPGRADED and listed.schema_version == 2
    row = stored_row(registry)
    assert (row.schema_version, row.meta) == (1, V1_META), "a read must not rewrite the row"


def test_an_update_writes_the_record_back_under_version_2(registry: Registry) -> None:
    insert_v1_record(registry)
    updated = registry.update_asset(REF, AssetUpdate(metadata={"row_count": 1200}),
                                    expected_revision=1)
    assert updated.metadata["row_count"] == 1200
    assert "rows" not in updated.metadata and "sha256" not in updated.metadata
    row = stored_row(registry)
    assert row.schema_version == 2
    assert row.meta == {**UPGRADED, "row_count": 1200, "partitioned_by": []}
    created, update = registry.history(REF).items
    assert created.payload["schema_version"] == 1
    assert created.payload["metadata"] == V1_META, "the old snapshot stays as written"
    assert update.payload["schema_version"] == 2
    assert update.payload["metadata"] == row.meta


def test_an_update_without_metadata_also_upgrades_the_row(registry: Registry) -> None:
    insert_v1_record(registry)
    registry.update_asset(REF, AssetUpdate(description="still here"), expected_revision=1)
    row = stored_row(registry)
    assert (row.schema_version, row.meta) == (2, UPGRADED)
    assert registry.get_asset(REF).metadata == UPGRADED
