"""A small organisation for the impact and revalidation tests, built through the service
layer.

    environment:platform/serving-py311  numpy==1.26.4 pandas==2.2.2, python 3.11.7
    environment:platform/batch-py310    numpy==1.26.4
    model_version:fraud/churn@1   production; trained in serving-py311 on dataset
                                  fraud/transactions@5 and feature txn-aggregates@2;
                                  numpy<2 (requirements.txt:3), feature >=2,<3
    model_version:fraud/churn@2   registered; serving-py311; numpy>=1.26, feature >=2
    model_version:fraud/scorer@1  batch-py310; numpy<2
    model_version:fraud/legacy@1  serving-py311; numpy<2 only on python < 3.10
    model_version:fraud/risk@1    input schema schema:fraud/transactions@3
    model_version:fraud/velocity@1 requires feature:fraud/txn-velocity@1
    feature:fraud/txn-velocity@1  derived_from feature:fraud/txn-aggregates@2
    dataset:fraud/transactions@5  conforms_to schema:fraud/transactions@3
    deployment:fraud/churn-api    serves churn@1, requires serving-py311
    deployment:fraud/churn-batch  serves churn@1, requires batch-py310
    deployment:fraud/velocity-api serves velocity@1
"""

from __future__ import annotations

from typing import Any

from modelatlas.deps.model import AssetRequirement, Origin, PackageRequirement, Requirements
from modelatlas.refs import Ref
from modelatlas.registry import AssetCreate, Registry, RelationCreate, VersionRegistration
from modelatlas.registry._deps_store import write_requirements

SERVING = "environment:platform/serving-py311"
BATCH = "environment:platform/batch-py310"
FEATURE = "feature:fraud/txn-aggregates"
SCHEMA = "schema:fraud/transactions"
SCHEMA_V3_FIELDS: list[dict[str, Any]] = [
    {"name": "id", "type": "long", "nullable": False},
    {"name": "amount", "type": "double", "nullable": False},
    {"name": "country", "type": "string"},
]


def create(registry: Registry, ref: str, **fields: Any) -> None:
    registry.create_asset(AssetCreate(ref=ref, **fields))


def link(registry: Registry, source: str, relation: str, target: str) -> None:
    registry.add_relation(RelationCreate(source=source, relation=relation, target=target))


def declare(registry: Registry, ref: str, declared: Requirements) -> None:
    """Store requirements as registration does (the same store function, in a service
    transaction), without the ``requires`` edges set_requirements would add: the world
    above draws its edges itself."""
    parsed = Ref.parse(ref)
    with registry._write(None) as tx:
        write_requirements(tx, (tx.require_id(parsed, "/ref"), parsed), declared, path="",
                           replace=True)


def numpy(spec: str, line: int = 3, marker: str | None = None) -> PackageRequirement:
    return PackageRequirement("numpy", spec, marker=marker,
                              origin=Origin("requirements.txt", line))


def version(registry: Registry, name: str, **fields: Any) -> str:
    done = registry.register_version("fraud", name, VersionRegistration(**fields))
    return done.model_version.ref


def build(registry: Registry) -> None:
    create(registry, SERVING, metadata={"python": "3.11.7", "platform": "linux",
                                        "packages": ["numpy==1.26.4", "pandas==2.2.2"]})
    create(registry, BATCH, metadata={"python": "3.10.14", "packages": ["numpy==1.26.4"]})
    create(registry, f"{FEATURE}@1")
    create(registry, f"{FEATURE}@2")
    create(registry, f"{SCHEMA}@3", metadata={"fields": SCHEMA_V3_FIELDS})
    create(registry, "dataset:fraud/transactions@5")
    link(registry, "dataset:fraud/transactions@5", "conforms_to", f"{SCHEMA}@3")
    create(registry, "feature:fraud/txn-velocity@1")
    link(registry, "feature:fraud/txn-velocity@1", "derived_from", f"{FEATURE}@2")

    churn1 = version(registry, "churn", environment=SERVING, state="production",
                     datasets=["dataset:fraud/transactions@5"], features=[f"{FEATURE}@2"])
    declare(registry, churn1, Requirements(
        packages=(numpy("<2"),),
        assets=(AssetRequirement(FEATURE, ">=2,<3", Origin("registry.yaml", 2)),)))
    churn2 = version(registry, "churn", environment=SERVING)
    declare(registry, churn2, Requirements(
        packages=(numpy(">=1.26"),),
        assets=(AssetRequirement(FEATURE, ">=2", Origin("registry.yaml", 2)),)))
    scorer = version(registry, "scorer", environment=BATCH)
    declare(registry, scorer, Requirements(packages=(numpy("<2", line=1),)))
    legacy = version(registry, "legacy", environment=SERVING)
    declare(registry, legacy, Requirements(
        packages=(numpy("<2", marker='python_version < "3.10"'),)))
    risk = version(registry, "risk", requires=[SERVING], state="staging")
    declare(registry, risk, Requirements(input_schema=f"{SCHEMA}@3"))
    version(registry, "velocity", features=["feature:fraud/txn-velocity@1"])

    for name, served, env in (("churn-api", churn1, SERVING), ("churn-batch", churn1, BATCH),
                              ("velocity-api", "model_version:fraud/velocity@1", None)):
        create(registry, f"deployment:fraud/{name}", state="active")
        link(registry, f"deployment:fraud/{name}", "serves", served)
        if env:
            link(registry, f"deployment:fraud/{name}", "requires", env)


def reasons(items: list[Any]) -> dict[str, list[str]]:
    return {item.ref: item.reasons for item in items}
