"""A small lineage story for the lineage tests, built through the service layer.

    dataset:ml/raw@1 <-derived_from- dataset:ml/clean@1 <-derived_from- feature:ml/agg@1
    run:ml/train-1 used clean@1 and agg@1, produced model_version:ml/churn@1
        (churn@1 requires agg@1; version_of model:ml/churn)
    run:ml/train-2 used clean@1, produced model_version:ml/churn@2 (derived_from churn@1)
    evaluation:ml/churn-eval evaluated churn@1, evaluated_on dataset:ml/holdout@1
    deployment:ml/churn-api serves churn@2
"""

from __future__ import annotations

from modelatlas.registry import AssetCreate, Registry, RelationCreate, VersionRegistration

RAW, CLEAN, AGG = "dataset:ml/raw@1", "dataset:ml/clean@1", "feature:ml/agg@1"
HOLDOUT = "dataset:ml/holdout@1"
TRAIN1, TRAIN2 = "run:ml/train-1", "run:ml/train-2"
CHURN1, CHURN2, MODEL = "model_version:ml/churn@1", "model_version:ml/churn@2", "model:ml/churn"
EVAL, DEPLOY = "evaluation:ml/churn-eval", "deployment:ml/churn-api"


def create(registry: Registry, ref: str) -> None:
    registry.create_asset(AssetCreate(ref=ref))


def link(registry: Registry, source: str, relation: str, target: str) -> None:
    registry.add_relation(RelationCreate(source=source, relation=relation, target=target))


def build(registry: Registry) -> None:
    for ref in (RAW, CLEAN, AGG, HOLDOUT, EVAL, DEPLOY):
        create(registry, ref)
    link(registry, CLEAN, "derived_from", RAW)
    link(registry, AGG, "derived_from", CLEAN)
    registry.register_version("ml", "churn", VersionRegistration(
        run={"name": "train-1"}, datasets=[CLEAN], features=[AGG]))
    registry.register_version("ml", "churn", VersionRegistration(
        run={"name": "train-2"}, datasets=[CLEAN], derived_from=[CHURN1]))
    link(registry, EVAL, "evaluated", CHURN1)
    link(registry, EVAL, "evaluated_on", HOLDOUT)
    link(registry, DEPLOY, "serves", CHURN2)
