"""Catalog reconciliation: a Marquez listing and a DataHub export (tests/integrations/data)
against a registry filled by OpenLineage ingestion and by direct creation; sync, rights,
and the CLI's exit codes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelatlas.errors import Forbidden, InvalidInput
from modelatlas.governance.principal import Principal
from modelatlas.integrations.catalogs import read_catalog
from modelatlas.registry import AssetCreate, Registry, RelationCreate

DATA = Path(__file__).parent / "data"
MARQUEZ = json.loads((DATA / "marquez_datasets.json").read_text())
DATAHUB = json.loads((DATA / "datahub_export.json").read_text())
WAREHOUSE = "postgres://warehouse:5432"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.12.0/client/python"
SCHEMA_FACET = "https://openlineage.io/spec/facets/1-1-0/SchemaDatasetFacet.json"
CAROL = Principal(kind="user", person="carol")  # reads the warehouse, not hive


def _dataset(name: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
    facet = {"_producer": PRODUCER, "_schemaURL": SCHEMA_FACET,
             "fields": [{"name": n, "type": t} for n, t in fields]}
    return {"namespace": WAREHOUSE, "name": name, "facets": {"schema": facet}}


def _build(registry: Registry) -> dict[str, str]:
    outputs = [
        _dataset("shop.public.orders", [("order_id", "INTEGER"), ("customer_id", "INTEGER"),
                                        ("total", "DECIMAL(10,2)")]),
        _dataset("shop.public.customers", [("id", "INTEGER"), ("email", "TEXT"),
                                           ("name", "VARCHAR")]),
        _dataset("shop.public.payments", [("payment_id", "INTEGER")]),
    ]
    registry.ingest_openlineage({
        "eventType": "COMPLETE", "eventTime": "2024-05-01T10:00:00Z",
        "run": {"runId": str(uuid.UUID(int=7, version=4))},
        "job": {"namespace": "etl", "name": "load_shop"},
        "outputs": outputs, "producer": PRODUCER, "schemaURL": CORE,
    })
    # DataHub side: created directly, numbered versions, a schema linked by hand
    registry.create_asset(AssetCreate(ref="dataset:hive/finance.transactions@1"))
    registry.create_asset(AssetCreate(ref="dataset:hive/finance.transactions@2"))
    registry.create_asset(AssetCreate(ref="schema:hive/finance.transactions@1", metadata={
        "fields": [{"name": "txn_id", "type": "BIGINT", "nullable": False},
                   {"name": "amount", "type": "decimal(12,2)"}]}))
    registry.add_relation(RelationCreate(source="dataset:hive/finance.transactions@2",
                                         relation="conforms_to",
                                         target="schema:hive/finance.transactions@1"))
    registry.create_asset(AssetCreate(ref="dataset:hive/finance.accounts@1"))
    registry.create_asset(AssetCreate(ref="schema:hive/finance.accounts@1", metadata={
        "fields": [{"name": "account_id", "type": "string", "nullable": True}]}))
    registry.add_relation(RelationCreate(source="dataset:hive/finance.accounts@1",
                                         relation="conforms_to",
                                         target="schema:hive/finance.accounts@1"))
    registry.create_asset(AssetCreate(ref="dataset:hive/finance.old_report@1"))
    warehouse = read_catalog(MARQUEZ)[0].ref.namespace
    registry.grant_role(warehouse, {"principal_type": "user", "principal_name": "carol",
                                    "role": "viewer"})
    return {"warehouse": warehouse}


@pytest.fixture
def world(worlds: Callable[..., Any]) -> tuple[Registry, dict[str, str]]:
    registry, data = worlds(_build)
    return registry, data


def _names(items: list[Any]) -> list[str]:
    return sorted(item.ref for item in items)


def test_a_marquez_listing_reports_missing_extra_and_drifted(world: Any) -> None:
    registry, data = world
    ns = data["warehouse"]
    report = registry.reconcile_catalog(MARQUEZ, format="marquez")
    assert report.format == "marquez" and report.compared == 3 and not report.in_sync
    assert _names(report.missing) == [f"dataset:{ns}/shop.public.refunds@live"]
    assert report.missing[0].source["namespace"] == WAREHOUSE
    assert _names(report.extra) == [f"dataset:{ns}/shop.public.payments@live"]
    (drifted,) = report.drifted
    assert drifted.ref == f"dataset:{ns}/shop.public.customers@live"
    changes = {(c.field, c.change, c.catalog, c.registry) for c in drifted.changes}
    assert changes == {("email", "type_changed", "VARCHAR", "TEXT"),
                       ("created_at", "added", "TIMESTAMP", None),
                       ("name", "removed", None, "VARCHAR")}


def test_a_datahub_export_reports_against_directly_created_datasets(world: Any) -> None:
    registry, _ = world
    report = registry.reconcile_catalog(DATAHUB)  # auto: a list is DataHub
    assert report.format == "datahub" and report.compared == 3
    assert _names(report.missing) == ["dataset:hive/finance.ledger@live"]
    assert report.missing[0].fields is None
    assert _names(report.extra) == ["dataset:hive/finance.old_report@1"]
    (drifted,) = report.drifted  # transactions@2 matches (types compare ignoring case)
    assert drifted.ref == "dataset:hive/finance.accounts@1"
    assert {(c.field, c.change) for c in drifted.changes} == {
        ("account_id", "type_changed"), ("opened", "added")}
    assert drifted.changes[0].catalog == "string NOT NULL"


def test_sync_writes_the_differences_and_a_second_run_is_clean(world: Any) -> None:
    registry, data = world
    ns = data["warehouse"]
    marquez = {"datasets": MARQUEZ["datasets"]}
    report = registry.reconcile_catalog(marquez, namespace=ns, sync=True)
    assert report.synced and f"dataset:{ns}/shop.public.refunds@live" in report.created
    again = registry.reconcile_catalog(marquez, namespace=ns)
    assert again.missing == [] and again.drifted == []
    assert _names(again.extra) == [f"dataset:{ns}/shop.public.payments@live"]  # not deleted
    # the schema sync wrote for customers is the one OpenLineage ingestion would write
    registry.ingest_openlineage({
        "eventType": "COMPLETE", "eventTime": "2024-05-02T10:00:00Z",
        "run": {"runId": str(uuid.UUID(int=8, version=4))},
        "job": {"namespace": "etl", "name": "load_shop"},
        "outputs": [_dataset("shop.public.customers", [("id", "INTEGER"), ("email", "VARCHAR"),
                                                       ("created_at", "TIMESTAMP")])],
        "producer": PRODUCER, "schemaURL": CORE,
    })
    assert registry.reconcile_catalog(marquez, namespace=ns).drifted == []
    dh = registry.reconcile_catalog(DATAHUB, sync=True)
    assert sorted(c.split("@")[0] for c in dh.created) == [
        "dataset:hive/finance.ledger", "schema:hive/finance.accounts"]
    clean = registry.reconcile_catalog(DATAHUB)
    assert clean.missing == [] and clean.drifted == []


def test_only_what_the_caller_may_read_counts(world: Any) -> None:
    registry, data = world
    ns = data["warehouse"]
    seen = registry.reconcile_catalog(MARQUEZ, principal=CAROL)
    assert _names(seen.extra) == [f"dataset:{ns}/shop.public.payments@live"]
    hidden = registry.reconcile_catalog(DATAHUB, principal=CAROL)
    # carol cannot read hive: every catalog dataset is missing to her, nothing extra shows
    assert _names(hidden.missing) == ["dataset:hive/finance.accounts@live",
                                      "dataset:hive/finance.ledger@live",
                                      "dataset:hive/finance.transactions@live"]
    assert hidden.extra == [] and hidden.drifted == []
    with pytest.raises(Forbidden):
        registry.reconcile_catalog(MARQUEZ, sync=True, principal=CAROL)


def test_malformed_exports_name_the_field(registry: Registry) -> None:
    with pytest.raises(InvalidInput) as bad:
        registry.reconcile_catalog({"datasets": [{"id": {"namespace": "x"}}]})
    assert bad.value.errors[0].path == "/export/datasets/0/id"
    with pytest.raises(InvalidInput) as urn:
        registry.reconcile_catalog([{"entityType": "dataset", "entityUrn": "urn:li:x"}])
    assert urn.value.errors[0].path == "/export/0/entityUrn"
    with pytest.raises(InvalidInput):
        registry.reconcile_catalog({"nothing": 1})
