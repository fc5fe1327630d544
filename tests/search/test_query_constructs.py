"""Every construct of the query language, against the small organisation of conftest.py,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from search_org import build_org, finder

from modelatlas.registry import Registry
from worlds import Worlds

Find = Callable[..., set[str]]

C1, C2, C3 = (f"model_version:fraud/churn@{n}" for n in (1, 2, 3))
PCT = "model_version:fraud/churn_10@1"
LTV = "model_version:growth/ltv@1"
VERSIONS = {C1, C2, C3, PCT, LTV}

CASES: list[tuple[str, set[str]]] = [
    # field filters
    ("kind:model_version", VERSIONS),
    ("kind:model_version namespace:growth", {LTV}),
    ("kind:model_version owner:alice", {C1, C3}),
    ("kind:model_version tag:tier-1", {C1}),
    ("kind:dataset tag:pii", {f"dataset:finance/transactions@{n}" for n in (1, 2, 3)}),
    ("kind:model_version state:production", {PCT}),
    ("state:registered namespace:growth", {LTV}),
    ("ref:model_version:fraud/churn@2", {C2}),
    ("ref:model_version:fraud/churn", {C1, C2, C3}),
    ("kind:model_version kind!=model_version", set()),
    # prefixes, with LIKE wildcards taken literally
    ("kind:model_version name:churn*", {C1, C2, C3, PCT}),
    ("name:churn_*", {PCT, "model:fraud/churn_10"}),  # not dataset:fraud/churnx1
    ("kind:model_version name:%*", set()),
    ("kind:model_version name:_*", set()),
    ("kind:model_version name:CHURN*", set()),
    ("namespace:gro*", {LTV, "model:growth/ltv", "run:growth/ltv-v1"}),
    # metadata paths and numbers
    ("meta.framework:xgboost", {C1, C2}),
    ("meta.framework!=xgboost kind:model_version", {C3, PCT, LTV}),
    ("meta.task:classification", {C1}),
    ('meta.framework:"sklearn"', {LTV}),
    ("metrics.auc>=0.9", {C1, C3}),
    ("metrics.auc>0.93", {C3}),
    ("metrics.auc<=0.71", {PCT, LTV}),
    ("metrics.auc:0.88", {C2}),
    ("metrics.latency_p95_ms<20", {C1}),
    ("meta.metrics.latency_p95_ms>=12", {C1, C2}),
    ("metrics.auc>=0.9 metrics.latency_p95_ms<20", {C1}),
    ("meta.framework>3", set()),  # text is never a number: no match, no error
    # kind and namespace pinned: counting facets reads the metric from its (kind, namespace)
    # range (migration 0024), which test_query_finds_exactly checks through the counts
    ("kind:model_version namespace:fraud metrics.auc>=0.9", {C1, C3}),
    ("namespace:growth metrics.auc<=0.71 kind:model_version", {LTV}),
    ("kind:model_version namespace:fraud metrics.auc!=0.88 metrics.auc<0.9", {PCT}),
    ("kind:model_version -(kind:model_version namespace:fraud metrics.auc>=0.9)",
     {C2, PCT, LTV}),
    # boolean logic
    ("metrics.auc>=0.9 OR namespace:growth kind:model_version", {C1, C3, LTV}),
    ("(metrics.auc>=0.9 OR namespace:growth) AND meta.framework:sklearn", {LTV}),
    ("kind:model_version NOT namespace:fraud", {LTV}),
    ("kind:model_version -namespace:fraud", {LTV}),
    ("kind:model_version -(namespace:fraud meta.framework:xgboost)", {C3, PCT, LTV}),
    # graph predicates, direct and transitive
    ("trained_on:dataset:finance/transactions@3", {C1}),
    ("trained_on:dataset:finance/transactions", {C1, LTV}),
    ("trained_on*:dataset:finance/transactions", {C1, C2, C3, LTV}),
    ("trained_on*:dataset:finance/transactions@3", {C1, C2, C3}),
    # two walks in one query: each recursive CTE gets its own name
    ("trained_on*:dataset:finance/transactions AND trained_on*:dataset:finance/transactions@3",
     {C1, C2, C3}),
    ("trained_on*:dataset:finance/transactions@3 OR derived_from*:model_version:fraud/churn@1",
     {C1, C2, C3}),
    ("trained_on:dataset:finance/txn-clean@1", {C2}),
    ("uses_feature:feature:fraud/txn-aggregates@2", {PCT, LTV}),
    ("uses_feature:feature:fraud/txn-aggregates", {PCT, LTV}),
    ("uses_feature*:feature:fraud/txn-aggregates", {PCT, LTV}),
    ("derived_from:model_version:fraud/churn@2", {C3}),
    ("derived_from*:dataset:finance/transactions@3", {"dataset:finance/txn-clean@1"}),
    ("derived_from:dataset:finance/transactions", {"dataset:finance/txn-clean@1"}),
    ("served_by:deployment:fraud/churn-prod", {C1}),
    ("requires:feature:fraud/txn-aggregates@2", {PCT, LTV}),
    ("trained_on*:dataset:finance/transactions -derived_from:model_version:fraud/churn@2",
     {C1, C2, LTV}),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_org(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    """One organisation per backend for the whole module: these tests only read it."""
    with world_cache.shared(request.param, build_org) as registry:
        yield registry


@pytest.fixture(scope="module")
def find(shared_org: Registry) -> Find:
    return finder(shared_org)


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_query_finds_exactly(find: Find, shared_org: Registry, query: str,
                             expected: set[str]) -> None:
    assert find(query) == expected
    # facets count under the query compiled again, scoping metric comparisons where kind
    # and namespace are pinned: every asset has one kind, so the counts add up to the hits
    kinds = shared_org.search(query, facets=["kind"], limit=1).facets["kind"]
    assert sum(value.count for value in kinds) == len(expected)


def test_dates(find: Find) -> None:
    everything = find("")
    assert find("created:last-30d") == everything
    assert find("created>2000-01-01") == everything
    assert find("created<2000-01-01") == set()
    assert find("updated>=2999-01-01") == set()
    assert find("created:2000-01-01") == set()
    assert find("created<=2999-12-31T23:59:59Z kind:model_version") == VERSIONS


def test_empty_query_is_everything(find: Find) -> None:
    assert VERSIONS < find("")
