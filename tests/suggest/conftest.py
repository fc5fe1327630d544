"""A small organisation to complete and relate, on both backends.

    dataset:finance/transactions@3 (tag pii)      feature:fraud/txn-aggregates@2
    model fraud/churn     v1 trained on transactions@3 (xgboost, tags pii, tier-1)
                          v2 fine-tuned from v1 (pytorch)
    model fraud/chargeback v1 trained on transactions@3, requires the feature (xgboost)
    model growth/ltv      v1 requires the feature (sklearn, tag tier-1)
    model fraud/churn_x, fraud/churnax  v1 ('_' is LIKE's wildcard)
"""

from __future__ import annotations

import pytest

from modelatlas.registry import AssetCreate, Registry, VersionRegistration


@pytest.fixture
def org(registry: Registry) -> Registry:
    registry.create_asset(AssetCreate(ref="dataset:finance/transactions@3", tags=["pii"]))
    registry.create_asset(AssetCreate(ref="feature:fraud/txn-aggregates@2"))
    registry.ensure_default_vocabulary()

    def version(ns: str, name: str, **fields: object) -> None:
        registry.register_version(ns, name, VersionRegistration.model_validate(fields))

    version("fraud", "churn", tags=["pii", "tier-1"], datasets=["dataset:finance/transactions@3"],
            metadata={"framework": "xgboost"})
    version("fraud", "churn", derived_from=["model_version:fraud/churn@1"],
            metadata={"framework": "pytorch"})
    version("fraud", "chargeback", datasets=["dataset:finance/transactions@3"],
            requires=["feature:fraud/txn-aggregates@2"], metadata={"framework": "xgboost"})
    version("growth", "ltv", tags=["tier-1"], requires=["feature:fraud/txn-aggregates@2"],
            metadata={"framework": "sklearn"})
    version("fraud", "churn_x", metadata={"framework": "xgboost"})
    version("fraud", "churnax", metadata={"framework": "xgboost"})
    return registry
