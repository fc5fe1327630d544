"""Per-namespace custom fields: a JSON Schema a namespace sets for one kind."""

from __future__ import annotations

import pytest

from modelatlas.errors import MetadataInvalid
from modelatlas.registry import AssetCreate, AssetUpdate, Registry, VersionRegistration

SCHEMA = {
    "type": "object",
    "properties": {
        "cost_centre": {"type": "string", "pattern": "^CC-[0-9]{4}$"},
        "pii": {"type": "boolean"},
    },
    "required": ["cost_centre"],
}


def test_custom_fields_are_checked_against_the_namespace_schema(registry: Registry) -> None:
    registry.set_namespace_schema("finance", "dataset", SCHEMA)
    with pytest.raises(MetadataInvalid) as caught:
        registry.create_asset(AssetCreate(ref="dataset:finance/a@1",
                                          custom={"cost_centre": "nope", "pii": "yes"}))
    assert [e.path for e in caught.value.errors] == ["/custom/cost_centre", "/custom/pii"]
    assert caught.value.status == 422
    assert registry.list_assets(kind="dataset").items == []
    ok = registry.create_asset(AssetCreate(ref="dataset:finance/a@1",
                                           custom={"cost_centre": "CC-1234", "pii": True}))
    assert ok.custom == {"cost_centre": "CC-1234", "pii": True}


def test_other_namespaces_and_kinds_are_unaffected(registry: Registry) -> None:
    registry.set_namespace_schema("finance", "dataset", SCHEMA)
    registry.create_asset(AssetCreate(ref="dataset:marketing/a@1", custom={"anything": 1}))
    registry.create_asset(AssetCreate(ref="feature:finance/f@1", custom={"anything": 1}))
    assert len(registry.list_assets().items) == 2


def test_updates_and_registrations_are_checked_too(registry: Registry) -> None:
    registry.set_namespace_schema("finance", "dataset", SCHEMA)
    registry.create_asset(AssetCreate(ref="dataset:finance/a@1",
                                      custom={"cost_centre": "CC-0001"}))
    with pytest.raises(MetadataInvalid) as caught:
        registry.update_asset("dataset:finance/a@1", AssetUpdate(custom={"cost_centre": None}),
                              expected_revision=1)
    assert [e.path for e in caught.value.errors] == ["/custom"]
    registry.set_namespace_schema("fraud", "model_version", SCHEMA)
    with pytest.raises(MetadataInvalid) as caught:
        registry.register_version("fraud", "churn", VersionRegistration(custom={"pii": 3}))
    assert sorted(e.path for e in caught.value.errors) == ["/custom", "/custom/pii"]
    assert registry.list_assets(namespace="fraud").items == []


def test_an_invalid_schema_is_refused(registry: Registry) -> None:
    with pytest.raises(MetadataInvalid) as caught:
        registry.set_namespace_schema("finance", "dataset", {"type": "no-such-type"})
    assert [e.path for e in caught.value.errors] == ["/json_schema"]
