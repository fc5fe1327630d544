"""The ``corpus`` fixture: the same assets on each backend, written through the service layer;
the query tables in the tests then hold for both, which is what "the same data gives the same
result set on SQLite and PostgreSQL" means here."""

from __future__ import annotations

import pytest
from fulltext_corpus import ASSETS, FRAUD_CARD

from modelatlas.registry import Registry, VersionRegistration
from modelatlas.registry.types import ModelSpec


@pytest.fixture
def corpus(registry: Registry) -> Registry:
    registry.register_version(
        "fraud",
        "fraud-detector",
        VersionRegistration(
            description="First release: retrained weekly.",
            tags=["production-candidate"],
            metadata={"framework": "xgboost"},
            model=ModelSpec(
                description="Flags suspicious card payments in real time.",
                tags=["pii", "task:classification/binary"],
                metadata={"card": FRAUD_CARD},
            ),
        ),
    )
    for spec in ASSETS:
        registry.create_asset(spec)
    return registry
