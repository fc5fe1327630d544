"""Text worth searching, and a helper that runs a full text query (imported by the tests
under this module's own name: ``conftest`` is taken by tests/conftest.py)."""

from __future__ import annotations

import sqlalchemy as sa

from modelatlas.registry import AssetCreate, Registry, VersionRegistration
from modelatlas.registry.types import ModelSpec
from modelatlas.search.fulltext import matching
from modelatlas.store.tables import assets

FRAUD_CARD = """# Fraud detector
Gradient boosted trees trained on card transactions.
Evaluated at the Café Zürich workshop."""

ASSETS = [
    AssetCreate(
        ref="dataset:finance/transactions@3",
        description="Card transactions of the retail bank, anonymised.",
        tags=["pii", "finance"],
    ),
    AssetCreate(
        ref="model:marketing/churn_predictor",
        description="Predicts churn of cafe loyalty members.",
        metadata={"card": "Logistic regression, retrained monthly."},
    ),
    AssetCreate(
        ref="model:nlp/naïve-bayes.spam",
        description="Spam filter for support e-mail.",
        tags=["nlp"],
        metadata={"card": "Uses a naive Bayes classifier. Precision 0.97 on held-out mail."},
    ),
    AssetCreate(
        ref="dataset:marketing/loyalty@1",
        description="Loyalty programme members; the detector team uses it too.",
    ),
    AssetCreate(
        ref="model:research/multilingual-ner",
        description="Named entities in Ελληνικά, русский and 日本語 text.",
        tags=["nlp", "multilingual"],
    ),
]


def build_corpus(registry: Registry) -> None:
    """The fraud detector with its card, and :data:`ASSETS`, in ``registry``."""
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


def ref_of(kind: str, namespace: str, name: str, version: str) -> str:
    return f"{kind}:{namespace}/{name}" + (f"@{version}" if version else "")


def search(registry: Registry, text: str) -> list[str]:
    """Refs matching ``text``, best first (ties by id)."""
    hits = matching(text, registry.db.dialect).subquery()
    query = (
        sa.select(assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)
        .join(hits, hits.c.asset_id == assets.c.id)
        .order_by(hits.c.rank, assets.c.id)
    )
    with registry.db.read() as conn:
        return [ref_of(*row) for row in conn.execute(query)]
