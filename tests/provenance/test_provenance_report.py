"""The provenance report of a model version, on both backends: a complete chain, and a
chain missing each piece in turn."""

from __future__ import annotations

import pytest
from provenance_world import (
    COMMIT,
    deploy,
    evaluate,
    link_feature_source,
    new_dataset_version,
    register,
)

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.registry import AssetCreate, Registry


def test_complete_chain_reads_from_raw_data_to_deployment(registry: Registry) -> None:
    version = register(registry, "fraud", "churn")
    link_feature_source(registry, "fraud")
    evaluation = evaluate(registry, version, "dataset:fraud/transactions@1", "churn-eval")
    deployment = deploy(registry, version, "churn-api")

    report = registry.provenance_report(version)

    assert report.complete and report.validated and report.completeness == 1.0
    assert report.missing == []
    assert report.model == "model:fraud/churn"
    assert report.model_version.ref == version and report.model_version.who == "tester"
    raw = {(d.ref, d.via, d.current) for d in report.raw_data}
    assert raw == {("dataset:fraud/transactions@1", None, True),
                   ("dataset:fraud/transactions@1", "feature:fraud/txn-aggregates@1", True)}
    assert [f.ref for f in report.features] == ["feature:fraud/txn-aggregates@1"]
    [run] = report.runs
    assert run.ref == "run:fraud/churn-v1"
    assert (run.who, run.when) == ("alice", "2026-01-05T10:00:00Z")
    assert run.seeds == {"numpy": 7, "torch": 42}
    assert run.parameters == {"max_depth": 6, "eta": 0.1}
    assert [(c.ref, c.commit) for c in run.code] == [("code:fraud/churn-train", COMMIT)]
    assert [e.ref for e in run.environments] == ["environment:fraud/py311"]
    assert run.environments[0].digest and run.environments[0].python == "3.11"
    assert run.data == ["dataset:fraud/transactions@1", "feature:fraud/txn-aggregates@1"]
    [ev] = report.evaluations
    assert ev.ref == evaluation and ev.on_current_data and ev.passed is True
    assert ev.slices == ["region=eu"] and ev.fairness_failed == ["demographic_parity"]
    assert ev.drifted == ["amount"]
    assert [d.ref for d in ev.datasets] == ["dataset:fraud/transactions@1"]
    [dep] = report.deployments
    assert (dep.ref, dep.environment, dep.state) == (deployment, "prod", "active")


def test_feature_without_source_is_advice_not_a_gap(registry: Registry) -> None:
    version = register(registry, "fraud", "churn")
    evaluate(registry, version, "dataset:fraud/transactions@1", "churn-eval")
    report = registry.provenance_report(version)
    assert report.complete and report.validated
    assert [(m.step, m.area) for m in report.missing] == [("features", "advice")]
    assert "feature:fraud/txn-aggregates@1" in report.missing[0].message


MISSING_PIECES = [
    ({"run": False}, {"run"}, 0.0),
    ({"data": False}, {"data"}, 5 / 6),
    ({"code": False}, {"run.code"}, 4 / 6),
    ({"commit": False}, {"run.code.commit"}, 5 / 6),
    ({"environment": False}, {"run.environment"}, 5 / 6),
    ({"seeds": False}, {"run.seeds"}, 5 / 6),
    ({"code": False, "seeds": False}, {"run.code", "run.seeds"}, 3 / 6),
]


@pytest.mark.parametrize(("pieces", "gaps", "score"), MISSING_PIECES,
                         ids=[" ".join(sorted(p)) for p, _, _ in MISSING_PIECES])
def test_each_missing_piece_breaks_the_chain(
    registry: Registry, pieces: dict[str, bool], gaps: set[str], score: float
) -> None:
    version = register(registry, "fraud", "churn", **pieces)
    if pieces.get("data", True) and pieces.get("run", True):
        link_feature_source(registry, "fraud")
    registry.create_asset(AssetCreate(ref="dataset:fraud/holdout@1"))
    evaluate(registry, version, "dataset:fraud/holdout@1", "eval")

    report = registry.provenance_report(version)

    assert not report.complete and report.validated
    lineage = {m.step for m in report.missing if m.area == "lineage"}
    assert lineage == gaps
    assert report.completeness == round(score, 4)
    if not pieces.get("run", True):
        assert report.runs == [] and report.raw_data == [] and report.features == []


def test_parameters_are_advice(registry: Registry) -> None:
    version = register(registry, "fraud", "churn", parameters=False)
    report = registry.provenance_report(version)
    assert report.complete
    assert ("run.parameters", "advice") in {(m.step, m.area) for m in report.missing}


def test_no_evaluation_leaves_it_unvalidated(registry: Registry) -> None:
    version = register(registry, "fraud", "churn")
    report = registry.provenance_report(version)
    assert report.complete and not report.validated
    assert ("evaluation", "validation") in {(m.step, m.area) for m in report.missing}


def test_evaluation_on_an_old_dataset_version(registry: Registry) -> None:
    version = register(registry, "fraud", "churn")
    evaluate(registry, version, "dataset:fraud/transactions@1", "churn-eval")
    assert registry.provenance_report(version).validated
    new_dataset_version(registry, "fraud", 2)

    report = registry.provenance_report(version)

    assert report.complete and not report.validated
    [gap] = [m for m in report.missing if m.area == "validation"]
    assert gap.step == "evaluation.current_data"
    assert "dataset:fraud/transactions@1" in gap.message
    assert report.evaluations[0].datasets[0].current is False
    evaluate(registry, version, "dataset:fraud/transactions@2", "churn-eval-2")
    assert registry.provenance_report(version).validated


def test_report_refuses_other_kinds_and_unknown_versions(registry: Registry) -> None:
    register(registry, "fraud", "churn")
    with pytest.raises(InvalidInput) as bad:
        registry.provenance_report("dataset:fraud/transactions@1")
    assert bad.value.errors[0].path == "/ref"
    with pytest.raises(NotFound):
        registry.provenance_report("model_version:fraud/churn@9")
