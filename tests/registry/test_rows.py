"""The fast row -> model path builds exactly what pydantic's own constructor builds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from modelatlas.registry import Registry
from modelatlas.registry._rows import trusted
from modelatlas.registry.types import Asset, AssetCreate, Event, Relation, RelationCreate


def _same_as_pydantic(model: BaseModel) -> None:
    cls = type(model)
    assert set(model.__dict__) == set(cls.model_fields), "every field, and nothing else"
    values = dict(model.__dict__)
    assert model == cls.model_construct(**values)
    assert model == cls.model_validate(model.model_dump())
    assert model.model_dump_json() == cls.model_validate(values).model_dump_json()
    assert model.model_fields_set == set(cls.model_fields)


def test_trusted_equals_model_construct() -> None:
    values: dict[str, Any] = {
        "ref": "model:a/b", "kind": "model", "namespace": "a", "name": "b", "version": None,
        "description": "", "owners": ["ann"], "tags": ["x"], "metadata": {"task": "ner"},
        "custom": {}, "state": "registered", "digests": {}, "schema_version": 1,
        "revision": 1, "created_at": "t", "created_by": "u", "updated_at": "t",
        "updated_by": "u",
    }
    _same_as_pydantic(trusted(Asset, dict(values)))
    copy = trusted(Asset, dict(values)).model_copy(update={"tags": ["y"]})
    assert copy.tags == ["y"]


def test_rows_read_back_as_full_models(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="dataset:fin/tx@1", tags=["pii"], owners=["ann"],
                                      metadata={"row_count": 3}))
    registry.create_asset(AssetCreate(ref="dataset:fin/clean@1", description="clean"))
    registry.add_relation(RelationCreate(source="dataset:fin/clean@1", relation="derived_from",
                                         target="dataset:fin/tx@1"))
    asset = registry.get_asset("dataset:fin/tx@1")
    assert isinstance(asset, Asset) and asset.metadata["row_count"] == 3
    _same_as_pydantic(asset)
    relation = registry.relations("dataset:fin/clean@1").items[0]
    assert isinstance(relation, Relation)
    _same_as_pydantic(relation)
    events = registry.events().items
    assert events and all(isinstance(e, Event) for e in events)
    _same_as_pydantic(events[0])


def test_search_hits_are_the_assets_as_read_one_by_one(registry: Registry) -> None:
    # the page is built by its own loop (registry/_rows.py assets_from_page): it must
    # build what get_asset builds, field for field, JSON columns decoded, refs formatted
    registry.create_asset(AssetCreate(ref="dataset:fin/tx@1", tags=["pii"], owners=["ann"],
                                      metadata={"row_count": 3}, custom={"cost": "é"}))
    registry.create_asset(AssetCreate(ref="model:fin/churn", description="churn"))
    for sort in ("relevance", "name"):
        hits = registry.search("namespace:fin", sort=sort, limit=1)
        rest = registry.search("namespace:fin", sort=sort, limit=1, cursor=hits.next_cursor)
        found = hits.items + rest.items
        assert len(found) == 2
        for hit in found:
            _same_as_pydantic(hit)
            assert hit == registry.get_asset(hit.ref)
