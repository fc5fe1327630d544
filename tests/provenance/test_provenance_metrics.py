"""Provenance metrics per team on a small registry with known figures, both backends;
and the metrics agree with the per-version reports."""

from __future__ import annotations

import pytest
from provenance_world import build_small_registry

from modelatlas.errors import InvalidInput
from modelatlas.registry import Registry


def test_figures_per_team_and_in_total(registry: Registry) -> None:
    build_small_registry(registry)

    metrics = registry.provenance_metrics()

    assert metrics.namespace is None
    fraud, risk = metrics.teams
    assert fraud.namespace == "fraud" and risk.namespace == "risk"
    assert (fraud.model_versions, fraud.complete, fraud.validated) == (4, 2, 1)
    assert (fraud.lineage_completeness, fraud.validation_coverage) == (0.5, 0.25)
    assert (fraud.with_run, fraud.with_data, fraud.with_code_commit,
            fraud.with_environment, fraud.with_seeds) == (3, 3, 3, 3, 2)
    assert (risk.model_versions, risk.complete, risk.validated) == (2, 1, 1)
    assert (risk.lineage_completeness, risk.validation_coverage) == (0.5, 0.5)
    assert (risk.with_environment, risk.with_seeds) == (1, 2)
    total = metrics.total
    assert (total.model_versions, total.complete, total.validated) == (6, 3, 2)
    assert (total.lineage_completeness, total.validation_coverage) == (0.5, 0.3333)


def test_one_team_and_an_empty_registry(registry: Registry) -> None:
    empty = registry.provenance_metrics()
    assert empty.teams == [] and empty.total.model_versions == 0
    assert empty.total.lineage_completeness == 0.0
    build_small_registry(registry)
    only = registry.provenance_metrics("risk")
    assert only.namespace == "risk" and [t.namespace for t in only.teams] == ["risk"]
    assert only.total.model_versions == 2 and only.total.validation_coverage == 0.5
    assert registry.provenance_metrics("nobody").teams == []
    with pytest.raises(InvalidInput):
        registry.provenance_metrics("Not A Namespace")


def test_metrics_agree_with_the_reports(registry: Registry) -> None:
    refs = build_small_registry(registry)
    reports = {key: registry.provenance_report(ref) for key, ref in refs.items()}
    complete = {key for key, r in reports.items() if r.complete}
    validated = {key for key, r in reports.items() if r.validated}
    assert complete == {"fraud1", "fraud2", "risk1"}
    assert validated == {"fraud1", "risk1"}
    assert registry.provenance_metrics().total.complete == len(complete)
