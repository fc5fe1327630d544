"""The index follows every write path: service updates, raw SQL inserts and deletes, the
bulk loader, and rows that existed before the migration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from fulltext_corpus import search

from modelatlas.registry import AssetCreate, AssetUpdate, Registry
from modelatlas.registry.bulk import bulk_load
from modelatlas.store.engine import Database
from modelatlas.store.migrate import alembic_config, upgrade
from modelatlas.store.tables import asset_tags, assets
from modelatlas.testing import PostgresDatabases

FRAUD = "model:fraud/fraud-detector"


def _update(registry: Registry, ref: str, patch: AssetUpdate) -> None:
    revision = registry.get_asset(ref).revision
    registry.update_asset(ref, patch, expected_revision=revision)


def test_updates_replace_the_old_words(corpus: Registry) -> None:
    _update(corpus, FRAUD, AssetUpdate(
        description="Now about kangaroos.",
        tags=["wallaby"],
        metadata={"card": "A card about wombats."},
    ))
    assert search(corpus, "kangaroos") == [FRAUD]
    assert search(corpus, "wallaby") == [FRAUD]
    assert search(corpus, "wombats") == [FRAUD]
    for gone in ("suspicious", "classification", "zurich"):
        assert FRAUD not in search(corpus, gone), gone
    assert FRAUD in search(corpus, "detector")  # the name did not change


def test_an_update_that_leaves_the_text_alone_keeps_it_indexed(corpus: Registry) -> None:
    _update(corpus, FRAUD, AssetUpdate(state="deprecated", owners=["alice"]))
    _update(corpus, FRAUD, AssetUpdate(metadata={"task": "fraud"}))
    assert search(corpus, "zurich") == [FRAUD]
    assert search(corpus, "suspicious payments") == [FRAUD]


def test_raw_sql_inserts_and_deletes_are_indexed(corpus: Registry) -> None:
    row = {
        "kind": "dataset", "namespace": "raw", "name": "platypus-counts", "version": "1",
        "description": "Inserted without the service layer", "owners": [], "tags": ["zoo"],
        "meta": {}, "custom": {}, "schema_version": 2, "state": "active", "digests": {},
        "revision": 1, "created_at": "2026-01-01T00:00:00Z", "created_by": "sql",
        "updated_at": "2026-01-01T00:00:00Z", "updated_by": "sql",
    }
    with corpus.db.write() as conn:
        conn.execute(assets.insert().values(row))
    assert search(corpus, "platypus zoo") == ["dataset:raw/platypus-counts@1"]
    with corpus.db.write() as conn:
        conn.execute(assets.update().where(assets.c.name == "platypus-counts")
                     .values(name="echidna-counts"))
    assert search(corpus, "platypus") == []
    assert search(corpus, "echidna") == ["dataset:raw/echidna-counts@1"]

    dataset = "dataset:finance/transactions@3"
    with corpus.db.write() as conn:
        asset_id = conn.execute(sa.select(assets.c.id).where(
            assets.c.kind == "dataset", assets.c.name == "transactions")).scalar_one()
        conn.execute(asset_tags.delete().where(asset_tags.c.asset_id == asset_id))
        conn.execute(assets.delete().where(assets.c.id == asset_id))
    assert dataset not in search(corpus, "transactions")
    assert search(corpus, "pii") == [FRAUD]


def test_bulk_loaded_assets_are_searchable(registry: Registry) -> None:
    bulk_load(registry, [
        AssetCreate(ref=f"dataset:bulk/sighting-{i}@1", description=f"Koala sighting {i}",
                    tags=["koala"] if i % 2 else [])
        for i in range(50)
    ], batch_size=20)
    assert len(search(registry, "koala sighting")) == 50
    assert search(registry, "sighting 7") == ["dataset:bulk/sighting-7@1"]
    assert len(search(registry, "koala")) == 50  # in the description of every one


@pytest.fixture
def empty_database(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str,
    postgres_databases: PostgresDatabases | None,
) -> Iterator[Database]:
    """A database with no schema at all, on the backend of ``database_url``."""
    if not database_url.startswith("postgresql"):
        db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield db
        db.dispose()
        return
    assert postgres_databases is not None
    name = f"ma_fts_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_databases.server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(postgres_databases.url_for(name))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_migration_indexes_assets_that_existed_before_it(empty_database: Database) -> None:
    cfg = alembic_config()
    with empty_database.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    with empty_database.write() as conn:
        conn.execute(assets.insert().values(
            kind="model", namespace="old", name="legacy-scorer", version="",
            description="Written before full text search existed", owners=[], tags=["vintage"],
            meta={"card": "An ancient card"}, custom={}, schema_version=1, state="active",
            digests={}, revision=1, created_at="2020-01-01T00:00:00Z", created_by="x",
            updated_at="2020-01-01T00:00:00Z", updated_by="x",
        ))
    upgrade(empty_database)
    registry = Registry(empty_database)
    for text in ("legacy", "scorer", "vintage", "ancient card", "existed"):
        assert search(registry, text) == ["model:old/legacy-scorer"], text
