"""A small, explicit organisation to search (tests/search/conftest.py gives it per test,
and test_query_constructs.py shares one per module):

    dataset:finance/transactions@1..3     dataset:finance/txn-clean@1 derived_from transactions@3
    feature:fraud/txn-aggregates@2
    model fraud/churn:       v1 trained on transactions@3 (xgboost, auc 0.93, p95 12 ms, pii)
                             v2 trained on txn-clean@1   (xgboost, auc 0.88, p95 30 ms)
                             v3 fine-tuned from v2, no run (pytorch, auc 0.95)
    model fraud/churn_10:  v1 requires the feature (lightgbm, auc 0.71)
    model growth/ltv:        v1 trained on transactions@1, uses the feature (sklearn, auc 0.6)
    deployment:fraud/churn-prod serves churn@1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelatlas.registry import AssetCreate, Registry, RelationCreate, VersionRegistration

Find = Callable[..., set[str]]


def _version(registry: Registry, namespace: str, name: str, **fields: Any) -> str:
    reg = registry.register_version(namespace, name, VersionRegistration(**fields))
    return reg.model_version.ref


def build_org(registry: Registry) -> None:
    """The organisation of the module docstring, in ``registry``."""
    for n in (1, 2, 3):
        registry.create_asset(AssetCreate(ref=f"dataset:finance/transactions@{n}",
                                          tags=["pii"], owners=["finance-data"]))
    registry.create_asset(AssetCreate(ref="dataset:finance/txn-clean@1"))
    registry.add_relation(RelationCreate(source="dataset:finance/txn-clean@1",
                                         relation="derived_from",
                                         target="dataset:finance/transactions@3"))
    registry.create_asset(AssetCreate(ref="feature:fraud/txn-aggregates@2"))
    _version(registry, "fraud", "churn", owners=["alice"], tags=["pii", "tier-1"],
             description="churn classifier", datasets=["dataset:finance/transactions@3"],
             metadata={"framework": "xgboost", "task": "classification",
                       "metrics": {"auc": 0.93, "latency_p95_ms": 12}})
    _version(registry, "fraud", "churn", owners=["bob"], datasets=["dataset:finance/txn-clean@1"],
             metadata={"framework": "xgboost", "metrics": {"auc": 0.88, "latency_p95_ms": 30}})
    _version(registry, "fraud", "churn", owners=["alice"],
             derived_from=["model_version:fraud/churn@2"],
             metadata={"framework": "pytorch", "metrics": {"auc": 0.95}})
    registry.create_asset(AssetCreate(ref="dataset:fraud/churnx1@1"))  # for the '_' escape
    _version(registry, "fraud", "churn_10", state="production",
             requires=["feature:fraud/txn-aggregates@2"],
             metadata={"framework": "lightgbm", "metrics": {"auc": 0.71}})
    _version(registry, "growth", "ltv", owners=["carol"], tags=["tier-2"],
             datasets=["dataset:finance/transactions@1"],
             features=["feature:fraud/txn-aggregates@2"],
             metadata={"framework": "sklearn", "task": "regression", "metrics": {"auc": 0.6}})
    registry.create_asset(AssetCreate(ref="deployment:fraud/churn-prod"))
    registry.add_relation(RelationCreate(source="deployment:fraud/churn-prod", relation="serves",
                                         target="model_version:fraud/churn@1"))


def finder(org: Registry) -> Find:
    """Every ref a query finds in ``org`` (following cursors, checking none repeats)."""

    def refs(q: str, **kwargs: Any) -> set[str]:
        found: list[str] = []
        cursor = None
        while True:
            page = org.search(q, facets=[], cursor=cursor, limit=200, **kwargs)
            found += [a.ref for a in page.items]
            cursor = page.next_cursor
            if cursor is None:
                assert len(found) == len(set(found)), "a ref came back twice"
                return set(found)

    return refs
