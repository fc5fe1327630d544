"""Upstream and downstream walks through the service, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lineage_world import (
    AGG,
    CHURN1,
    CHURN2,
    CLEAN,
    DEPLOY,
    EVAL,
    HOLDOUT,
    MODEL,
    RAW,
    TRAIN1,
    TRAIN2,
    build,
    create,
    link,
)

from modelatlas.errors import InvalidInput, NotFound, UnknownKind, UnknownRelation
from modelatlas.registry import LineageGraph, LineageQuery, Registry
from worlds import Worlds


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    """One lineage story per backend for the module: its ``world`` tests only read it."""
    with world_cache.shared(request.param, build) as registry:
        yield registry


def depths(graph: LineageGraph) -> dict[str, tuple[int, str]]:
    return {n.ref: (n.depth, n.direction) for n in graph.nodes}


def edges(graph: LineageGraph) -> set[tuple[str, str, str]]:
    return {(e.source, e.relation, e.target) for e in graph.edges}


def test_downstream_follows_influence_to_every_depth(world: Registry) -> None:
    graph = world.lineage(RAW, LineageQuery(direction="downstream", depth=10))
    down = "downstream"
    assert depths(graph) == {
        RAW: (0, "root"), CLEAN: (1, down), AGG: (2, down), TRAIN1: (2, down),
        TRAIN2: (2, down), CHURN1: (3, down), CHURN2: (3, down), EVAL: (4, down),
        DEPLOY: (4, down),
    }
    assert graph.nodes[0].ref == RAW and [n.depth for n in graph.nodes] == sorted(
        n.depth for n in graph.nodes)
    assert not graph.truncated
    # edges as stored, whatever the walk's direction: produced points from the run
    assert (TRAIN1, "produced", CHURN1) in edges(graph)
    assert (TRAIN1, "used", CLEAN) in edges(graph)
    assert (CHURN2, "derived_from", CHURN1) in edges(graph)
    assert all(e[0] != MODEL and e[2] != MODEL for e in edges(graph))


def test_depth_bounds_the_walk(world: Registry) -> None:
    one = world.lineage(RAW, {"depth": 1})
    assert depths(one) == {RAW: (0, "root"), CLEAN: (1, "downstream")}
    assert edges(one) == {(CLEAN, "derived_from", RAW)}
    two = world.lineage(RAW, {"depth": 2})
    assert set(depths(two)) == {RAW, CLEAN, AGG, TRAIN1, TRAIN2}


def test_upstream_flips_produced(world: Registry) -> None:
    graph = world.lineage(CHURN2, LineageQuery(direction="upstream", depth=2))
    up = "upstream"
    assert depths(graph) == {
        CHURN2: (0, "root"), TRAIN2: (1, up), MODEL: (1, up), CHURN1: (1, up),
        CLEAN: (2, up), TRAIN1: (2, up), AGG: (2, up),
    }
    assert DEPLOY not in depths(graph)  # downstream of churn@2, not upstream


def test_both_directions_mark_each_side(world: Registry) -> None:
    graph = world.lineage(TRAIN1, {"direction": "both", "depth": 1})
    assert depths(graph) == {
        TRAIN1: (0, "root"), CHURN1: (1, "downstream"), CLEAN: (1, "upstream"),
        AGG: (1, "upstream"),
    }


def test_relation_filter_limits_the_edges_followed(world: Registry) -> None:
    derived = world.lineage(RAW, {"depth": 10, "relations": ["derived_from"]})
    assert set(depths(derived)) == {RAW, CLEAN, AGG}
    assert edges(derived) == {(CLEAN, "derived_from", RAW), (AGG, "derived_from", CLEAN)}
    runs = world.lineage(CLEAN, {"depth": 10, "relations": ["used", "produced"]})
    assert set(depths(runs)) == {CLEAN, TRAIN1, TRAIN2, CHURN1, CHURN2}
    produced_only = world.lineage(CHURN1, {"direction": "upstream", "relations": ["produced"]})
    assert set(depths(produced_only)) == {CHURN1, TRAIN1}


def test_kind_filter_limits_the_assets_returned_not_the_walk(world: Registry) -> None:
    graph = world.lineage(RAW, {"depth": 10, "kinds": ["model_version", "deployment"]})
    assert set(depths(graph)) == {RAW, CHURN1, CHURN2, DEPLOY}
    assert edges(graph) == {(CHURN2, "derived_from", CHURN1), (DEPLOY, "serves", CHURN2)}


def test_node_cap_keeps_the_nearest_and_says_truncated(world: Registry) -> None:
    graph = world.lineage(RAW, {"depth": 10, "limit": 3})
    assert graph.truncated
    assert [n.ref for n in graph.nodes][:2] == [RAW, CLEAN]
    assert len(graph.nodes) == 3 and graph.nodes[2].depth == 2
    kept = {n.ref for n in graph.nodes}
    assert all(e[0] in kept and e[2] in kept for e in edges(graph))
    exact = world.lineage(RAW, {"depth": 10, "limit": 9})
    assert len(exact.nodes) == 9 and not exact.truncated


def test_cycles_terminate_and_each_asset_appears_once(registry: Registry) -> None:
    a, b, c = "dataset:ml/a@1", "dataset:ml/b@1", "dataset:ml/c@1"
    for ref in (a, b, c):
        create(registry, ref)
    link(registry, a, "derived_from", b)
    link(registry, b, "derived_from", c)
    link(registry, c, "derived_from", a)
    graph = registry.lineage(a, {"direction": "both", "depth": 20})
    assert depths(graph) == {a: (0, "root"), b: (1, "upstream"), c: (1, "downstream")}
    assert len(edges(graph)) == 3


def test_an_asset_without_lineage_is_alone(world: Registry) -> None:
    graph = world.lineage(MODEL, {"direction": "upstream"})
    assert depths(graph) == {MODEL: (0, "root")} and graph.edges == []
    assert set(depths(world.lineage(HOLDOUT, {}))) == {HOLDOUT, EVAL}


@pytest.mark.parametrize(("query", "error", "path"), [
    ({"relations": ["used", "fed"]}, UnknownRelation, "/relations/1"),
    ({"kinds": ["widget"]}, UnknownKind, "/kinds/0"),
    ({"depth": 0}, InvalidInput, "/depth"),
    ({"depth": 21}, InvalidInput, "/depth"),
    ({"limit": 0}, InvalidInput, "/limit"),
    ({"direction": "sideways"}, InvalidInput, "/direction"),
    ({"as_of": "yesterday"}, InvalidInput, "/as_of"),
    ({"colour": "red"}, InvalidInput, "/colour"),
])
def test_bad_queries_name_the_field(
    world: Registry, query: dict[str, Any], error: type[Exception], path: str
) -> None:
    with pytest.raises(error) as raised:
        world.lineage(RAW, query)
    assert [e.path for e in raised.value.errors] == [path]  # type: ignore[attr-defined]


def test_unknown_root_is_not_found(world: Registry) -> None:
    with pytest.raises(NotFound):
        world.lineage("dataset:ml/nope@1", {})
