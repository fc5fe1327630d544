"""Facet keys (migration 0025): over a scoped metric range (kind and namespace pinned, a
metric compared), the single-valued facets are counted from each metric row's facet key,
kept by the database's triggers, instead of from the asset rows. Asking for the owners
facet (never in the keys) counts every facet from the asset rows: the two must agree, on
SQLite and PostgreSQL, before and after the writes that change a key."""

from __future__ import annotations

import sqlalchemy as sa

from modelatlas.registry import Registry
from modelatlas.registry.types import AssetCreate, AssetUpdate, RelationCreate
from modelatlas.search.facet_keys import key_positions
from modelatlas.search.facets import FacetSpec, facet_config

KEYED = ["kind", "namespace", "state", "framework", "task", "auc", "latency_p95_ms"]
WANTED = [*KEYED, "dataset", "tag"]
Counts = dict[str, list[tuple[str, int]]]


def _counts(registry: Registry, q: str, facets: list[str]) -> Counts:
    found = registry.search(q, facets=facets, limit=1).facets
    return {name: [(v.value, v.count) for v in values] for name, values in found.items()}


def _keyed_equal_rows(registry: Registry, q: str) -> Counts:
    keyed = _counts(registry, q, WANTED)
    rows = _counts(registry, q, [*WANTED, "owner"])
    del rows["owner"]
    assert keyed == rows
    return keyed


def test_shipped_facets_are_in_the_keys(org: Registry) -> None:
    """The migration's keys hold facets.yaml's single-valued facets as configured; a
    facet configured otherwise than the keys were written is not read from them."""
    config = facet_config()
    with org.db.read() as conn:
        positions = key_positions(conn, {name: config.facets[name] for name in WANTED})
        changed = FacetSpec(type="buckets", path=("metrics", "auc"), bounds=(0.5, 0.9))
        assert key_positions(conn, {"auc": changed, "state": config.facets["state"]}) is None
    assert positions is not None and set(positions) == set(KEYED)


def test_keyed_counts_equal_row_counts(org: Registry) -> None:
    fraud = _keyed_equal_rows(org, "kind:model_version namespace:fraud metrics.auc>=0.5")
    assert fraud["framework"] == [("xgboost", 2), ("lightgbm", 1), ("pytorch", 1)]
    assert fraud["auc"] == [("0.7-0.8", 1), ("0.8-0.9", 1), ("0.9-0.95", 1), (">=0.95", 1)]
    assert fraud["task"] == [("classification", 1)]
    assert fraud["dataset"] == [("dataset:finance/transactions@3", 1),
                                ("dataset:finance/txn-clean@1", 1)]
    for q in ("kind:model_version namespace:fraud metrics.auc!=0.88 metrics.auc<0.9",
              "kind:model_version namespace:fraud metrics.latency_p95_ms>0 tag:pii",
              "namespace:growth metrics.auc<=0.71 kind:model_version"):
        _keyed_equal_rows(org, q)


def test_keys_follow_writes(org: Registry) -> None:
    """A new asset, a metadata update and a stage change each rewrite the keys."""
    q = "kind:run namespace:fin metrics.auc>=0"
    made = org.create_asset(AssetCreate(ref="run:fin/train-1",
                                        metadata={"metrics": {"auc": 0.8}}))
    assert _keyed_equal_rows(org, q)["auc"] == [("0.8-0.9", 1)]
    org.update_asset("run:fin/train-1", AssetUpdate(metadata={"metrics": {"auc": 0.96}}),
                     expected_revision=made.revision)
    assert _keyed_equal_rows(org, q)["auc"] == [(">=0.95", 1)]
    churn = "kind:model_version namespace:fraud metrics.auc>=0.85"
    before = dict(_keyed_equal_rows(org, churn)["state"])
    org.set_stage("fraud", "churn", 2, {"stage": "staging"})
    moved = dict(_keyed_equal_rows(org, churn)["state"])
    assert moved.get("staging", 0) == before.get("staging", 0) + 1


def test_input_sets_follow_lineage(org: Registry) -> None:
    """A run input added or removed re-points its output's metric rows at the output's new
    set of inputs (the dataset facet of the scoped range)."""
    q = "kind:model_version namespace:growth metrics.auc>=0"
    assert _keyed_equal_rows(org, q)["dataset"] == [("dataset:finance/transactions@1", 1)]
    run, extra = "run:growth/retrain-1", "dataset:finance/transactions@2"
    org.create_asset(AssetCreate(ref=run))
    org.add_relation(RelationCreate(source=run, relation="used", target=extra))
    org.add_relation(RelationCreate(source=run, relation="produced",
                                    target="model_version:growth/ltv@1"))
    assert _keyed_equal_rows(org, q)["dataset"] == [("dataset:finance/transactions@1", 1),
                                                    (extra, 1)]
    org.remove_relation(run, "used", extra)
    assert _keyed_equal_rows(org, q)["dataset"] == [("dataset:finance/transactions@1", 1)]


def test_input_sets_are_kept_for_assets_with_metrics(org: Registry) -> None:
    """Only an output with metric rows gets a set (a dataset a daily job writes would make a
    new one per run); an output that gets its first metrics later finds its set then."""
    late = "evaluation:growth/late-eval"
    made = org.create_asset(AssetCreate(ref=late))
    sets_before = _dataset_sets(org)
    run, data = "run:growth/late-train", "dataset:finance/transactions@2"
    org.create_asset(AssetCreate(ref=run))
    org.add_relation(RelationCreate(source=run, relation="used", target=data))
    org.add_relation(RelationCreate(source=run, relation="produced", target=late))
    assert _dataset_sets(org) == sets_before
    org.update_asset(late, AssetUpdate(metadata={"metrics": {"auc": 0.5}}),
                     expected_revision=made.revision)
    q = "kind:evaluation namespace:growth metrics.auc<0.6"
    assert _keyed_equal_rows(org, q)["dataset"] == [(data, 1)]


def _dataset_sets(registry: Registry) -> int:
    with registry.db.read() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM dataset_key_values")).scalar_one())
