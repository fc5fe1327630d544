"""Small registries with known provenance, built through the service layer as a training
job, an evaluation job and a deployment would record them."""

from __future__ import annotations

from typing import Any

from modelatlas.registry import AssetCreate, Registry, RelationCreate, VersionRegistration

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def register(
    registry: Registry,
    namespace: str,
    name: str,
    *,
    run: bool = True,
    data: bool = True,
    code: bool = True,
    commit: bool = True,
    environment: bool = True,
    seeds: bool = True,
    parameters: bool = True,
) -> str:
    """Register the next version of ``namespace/name`` with the pieces asked for; return
    its ref. Without ``run`` nothing is linked (the registry creates no run)."""
    if not run:
        reg = VersionRegistration(metadata={"framework": "xgboost"})
        return registry.register_version(namespace, name, reg).model_version.ref
    meta: dict[str, Any] = {"user": "alice", "started_at": "2026-01-05T10:00:00Z",
                            "ended_at": "2026-01-05T11:00:00Z"}
    if seeds:
        meta["seeds"] = {"numpy": 7, "torch": 42}
    if parameters:
        meta["parameters"] = {"max_depth": 6, "eta": 0.1}
    fields: dict[str, Any] = {"run": {"metadata": meta}}
    if data:
        fields["datasets"] = [{"ref": f"dataset:{namespace}/transactions@1",
                               "metadata": {"location": "s3://lake/tx/1"}}]
        fields["features"] = [{"ref": f"feature:{namespace}/txn-aggregates@1"}]
    if code:
        code_meta = {"repository": f"https://git.example/{namespace}/{name}"}
        if commit:
            code_meta["commit"] = COMMIT
        fields["code"] = {"ref": f"code:{namespace}/{name}-train{'' if commit else '-dirty'}",
                          "metadata": code_meta}
    if environment:
        fields["environment"] = {"ref": f"environment:{namespace}/py311",
                                 "metadata": {"python": "3.11", "packages": ["xgboost==2.0.3"]}}
    reg = VersionRegistration.model_validate(fields)
    return registry.register_version(namespace, name, reg).model_version.ref


def link_feature_source(registry: Registry, namespace: str) -> None:
    """The feature pipeline version was derived from the raw dataset."""
    registry.add_relation(RelationCreate(source=f"feature:{namespace}/txn-aggregates@1",
                                         relation="derived_from",
                                         target=f"dataset:{namespace}/transactions@1"))


def evaluate(registry: Registry, version: str, dataset: str, name: str) -> str:
    namespace = version.split(":", 1)[1].split("/", 1)[0]
    ref = f"evaluation:{namespace}/{name}"
    registry.create_asset(AssetCreate(ref=ref, metadata={
        "metrics": {"auc": 0.91},
        "slices": [{"name": "region=eu", "metrics": {"auc": 0.9}}],
        "fairness": [{"check": "demographic_parity", "metric": "dp_diff", "value": 0.2,
                      "threshold": 0.1, "passed": False}],
        "drift": [{"feature": "amount", "method": "psi", "statistic": 0.3, "drifted": True},
                  {"feature": "country", "method": "psi", "statistic": 0.01,
                   "drifted": False}],
        "passed": True,
    }))
    registry.add_relation(RelationCreate(source=ref, relation="evaluated", target=version))
    registry.add_relation(RelationCreate(source=ref, relation="evaluated_on", target=dataset))
    return ref


def new_dataset_version(registry: Registry, namespace: str, version: int) -> str:
    ref = f"dataset:{namespace}/transactions@{version}"
    registry.create_asset(AssetCreate(ref=ref))
    return ref


def deploy(registry: Registry, version: str, name: str) -> str:
    namespace = version.split(":", 1)[1].split("/", 1)[0]
    ref = f"deployment:{namespace}/{name}"
    registry.create_asset(AssetCreate(ref=ref, state="active", metadata={
        "environment": "prod", "target": "kserve", "endpoint": "https://api.example/churn"}))
    registry.add_relation(RelationCreate(source=ref, relation="serves", target=version))
    return ref


def build_small_registry(registry: Registry) -> dict[str, str]:
    """Two teams with known figures (tests/provenance/test_provenance_metrics.py):

    fraud: churn@1 complete, evaluated on current data; churn@2 complete, evaluated on an
    old dataset version (a newer one exists); churn@3 without seeds; churn@4 without run.
    risk: score@1 complete, evaluated on current data; score@2 without an environment.
    """
    refs = {
        "fraud1": register(registry, "fraud", "churn"),
        "fraud2": register(registry, "fraud", "churn"),
        "fraud3": register(registry, "fraud", "churn", seeds=False),
        "fraud4": register(registry, "fraud", "churn", run=False),
        "risk1": register(registry, "risk", "score"),
        "risk2": register(registry, "risk", "score", environment=False),
    }
    evaluate(registry, refs["fraud2"], "dataset:fraud/transactions@1", "churn2-eval")
    new_dataset_version(registry, "fraud", 2)
    evaluate(registry, refs["fraud1"], "dataset:fraud/transactions@2", "churn1-eval")
    evaluate(registry, refs["risk1"], "dataset:risk/transactions@1", "score1-eval")
    return refs
