"""bulk_load on both backends, fed by the benchmark's synthetic organisation."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter

import pytest
import sqlalchemy as sa

from generate import Shape, generate
from modelatlas.errors import AlreadyExists, MetadataInvalid, NotFound
from modelatlas.jsonsafe import canonical
from modelatlas.kinds import validate_metadata
from modelatlas.registry import AssetCreate, Registry, RelationCreate, VersionRegistration
from modelatlas.registry.bulk import bulk_load
from modelatlas.store.tables import assets, events, relations

VERSIONS = 200


def _count(registry: Registry, table: sa.Table) -> int:
    with registry.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_bulk_load_writes_assets_relations_and_their_events(registry: Registry) -> None:
    records = list(generate(VERSIONS, seed=3))
    asset_records = [r for r in records if isinstance(r, AssetCreate)]
    relation_records = [r for r in records if isinstance(r, RelationCreate)]
    batches: list[int] = []

    stats = bulk_load(registry, iter(records), batch_size=250,
                      progress=lambda s: batches.append(s.batches))

    assert (stats.assets, stats.relations) == (len(asset_records), len(relation_records))
    assert stats.events == len(records) and batches == list(range(1, stats.batches + 1))
    assert _count(registry, assets) == len(asset_records)
    assert _count(registry, relations) == len(relation_records)
    assert _count(registry, events) == len(records)
    kinds = Counter(r.ref.split(":")[0] for r in asset_records)
    assert kinds["model_version"] == VERSIONS
    actions = Counter(e.action for e in registry.events(limit=500).items)
    assert set(actions) == {"asset.created", "model_version.registered", "relation.added"}


def test_events_match_those_of_the_normal_path(registry: Registry) -> None:
    bulk_load(registry, generate(VERSIONS, seed=3))
    version = next(r for r in generate(VERSIONS, seed=3)
                   if isinstance(r, AssetCreate) and r.ref.startswith("model_version:"))
    history = registry.history(version.ref).items
    created, *links = history
    assert created.action == "model_version.registered"
    assert created.payload["ref"] == version.ref and created.payload["revision"] == 1
    assert {"version_of"} <= {e.payload["relation"] for e in links} <= {"version_of", "requires"}
    for event in history:
        body = canonical(event.payload)
        assert hashlib.sha256(body).hexdigest() == event.payload_sha256
    asset = registry.get_asset(version.ref)
    assert asset.state == version.state
    assert asset.metadata == validate_metadata("model_version", version.metadata)


def test_relations_resolve_and_dataset_use_is_skewed(registry: Registry) -> None:
    bulk_load(registry, generate(2000, seed=5), batch_size=3000)
    with registry.db.read() as conn:
        readers = [int(n) for n in conn.execute(sa.text(
            "SELECT count(*) FROM relations r JOIN assets a ON a.id = r.target_id "
            "WHERE r.relation = 'used' AND a.kind = 'dataset' GROUP BY r.target_id "
            "ORDER BY count(*) DESC")).scalars()]
    assert readers[0] >= 10 * statistics.median(readers)  # Zipf: a few datasets feed most
    assert readers[0] >= 200
    top = registry.relations("dataset:" + _most_used(registry), direction="in", limit=500)
    assert {r.relation for r in top.items} >= {"used"}


def _most_used(registry: Registry) -> str:
    with registry.db.read() as conn:
        row = conn.execute(sa.text(
            "SELECT a.namespace, a.name, a.version FROM relations r JOIN assets a "
            "ON a.id = r.target_id WHERE a.kind = 'dataset' GROUP BY a.id "
            "ORDER BY count(*) DESC LIMIT 1")).one()
    return f"{row.namespace}/{row.name}@{row.version}"


def test_register_version_continues_the_loaded_numbering(registry: Registry) -> None:
    records = list(generate(VERSIONS, seed=3))
    bulk_load(registry, records, batch_size=100)
    numbers: dict[tuple[str, str], int] = {}
    for r in records:
        if isinstance(r, AssetCreate) and r.ref.startswith("model_version:"):
            series, version = r.ref.split(":", 1)[1].split("@")
            ns, name = series.split("/")
            numbers[(ns, name)] = max(numbers.get((ns, name), 0), int(version))
    (ns, name), last = max(numbers.items(), key=lambda item: item[1])
    assert last > 1
    registration = registry.register_version(ns, name, VersionRegistration())
    assert registration.model_version.ref == f"model_version:{ns}/{name}@{last + 1}"


def test_a_second_load_of_the_same_asset_is_refused_and_names_it(registry: Registry) -> None:
    first = [AssetCreate(ref="dataset:finance/transactions@1")]
    bulk_load(registry, first)
    again = [AssetCreate(ref="dataset:finance/customers@1"),
             AssetCreate(ref="dataset:finance/transactions@1")]
    with pytest.raises(AlreadyExists) as caught:
        bulk_load(registry, again)
    assert caught.value.errors[0].path == "/records/1/ref"
    assert _count(registry, assets) == 1  # the failed batch wrote nothing
    assert _count(registry, events) == 1


@pytest.mark.parametrize(
    ("records", "error", "path"),
    [
        ([AssetCreate(ref="dataset:finance/tx@1", metadata={"row_count": -1})],
         MetadataInvalid, "/records/0/metadata/row_count"),
        ([AssetCreate(ref="dataset:finance/tx@1"),
          RelationCreate(source="run:finance/nightly", relation="used",
                         target="dataset:finance/tx@1")],
         NotFound, "/records/1/source"),
    ],
    ids=["bad-metadata", "relation-before-its-asset"],
)
def test_invalid_records_are_refused_with_their_position(
    registry: Registry, records: list[AssetCreate | RelationCreate],
    error: type[Exception], path: str,
) -> None:
    with pytest.raises(error) as caught:
        bulk_load(registry, records)
    assert caught.value.errors[0].path == path  # type: ignore[attr-defined]
    assert _count(registry, events) == 0


def test_generator_is_deterministic_and_proportional() -> None:
    def dump(seed: int) -> list[str]:
        return [json.dumps(r.model_dump(), sort_keys=True) for r in generate(300, seed=seed)]

    assert dump(1) == dump(1) and dump(1) != dump(2)
    small, large = Shape.for_versions(1_000), Shape.for_versions(1_000_000)
    assert large.dataset_series == 1000 * small.dataset_series
