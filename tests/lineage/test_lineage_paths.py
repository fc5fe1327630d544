"""Paths between two assets and the blast radius, through the service, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lineage_world import (
    AGG,
    CHURN1,
    CHURN2,
    CLEAN,
    DEPLOY,
    EVAL,
    HOLDOUT,
    RAW,
    TRAIN1,
    TRAIN2,
    build,
    create,
    link,
)

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.registry import Registry
from worlds import Worlds


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    """One lineage story per backend for the module: its ``world`` tests only read it."""
    with world_cache.shared(request.param, build) as registry:
        yield registry


def test_the_shortest_path_within_the_depth(world: Registry) -> None:
    found = world.lineage_paths(RAW, DEPLOY, depth=4)
    assert [p.refs for p in found.paths] == [[RAW, CLEAN, TRAIN2, CHURN2, DEPLOY]]
    assert [(e.source, e.relation, e.target) for e in found.paths[0].edges] == [
        (CLEAN, "derived_from", RAW), (TRAIN2, "used", CLEAN), (TRAIN2, "produced", CHURN2),
        (DEPLOY, "serves", CHURN2),
    ]
    assert not found.truncated


def test_longer_paths_shortest_first_and_the_count_cap(world: Registry) -> None:
    found = world.lineage_paths(RAW, DEPLOY, depth=6)
    lengths = [len(p.refs) - 1 for p in found.paths]
    assert lengths == sorted(lengths) and lengths[0] == 4
    assert [RAW, CLEAN, TRAIN1, CHURN1, CHURN2, DEPLOY] in [p.refs for p in found.paths]
    assert [RAW, CLEAN, AGG, CHURN1, CHURN2, DEPLOY] in [p.refs for p in found.paths]
    assert len({tuple(p.refs) for p in found.paths}) == len(found.paths)
    capped = world.lineage_paths(RAW, DEPLOY, depth=6, limit=2)
    assert len(capped.paths) == 2 and capped.truncated


def test_paths_against_influence_are_listed_from_the_source(world: Registry) -> None:
    found = world.lineage_paths(DEPLOY, CLEAN, depth=3)
    assert [p.refs for p in found.paths] == [[DEPLOY, CHURN2, TRAIN2, CLEAN]]
    assert (found.paths[0].edges[1].source, found.paths[0].edges[1].relation) == (
        TRAIN2, "produced")


def test_no_path(world: Registry) -> None:
    assert world.lineage_paths(HOLDOUT, DEPLOY, depth=10).paths == []
    assert world.lineage_paths(RAW, DEPLOY, depth=3).paths == []


def test_paths_in_a_cycle_end(registry: Registry) -> None:
    a, b, c = "dataset:ml/a@1", "dataset:ml/b@1", "dataset:ml/c@1"
    for ref in (a, b, c):
        create(registry, ref)
    link(registry, b, "derived_from", a)
    link(registry, c, "derived_from", b)
    link(registry, a, "derived_from", c)
    assert [p.refs for p in registry.lineage_paths(a, c, depth=20).paths] == [[a, b, c]]


@pytest.mark.parametrize(("kwargs", "path"), [
    ({"depth": 0}, "/depth"), ({"depth": 21}, "/depth"), ({"limit": 0}, "/limit"),
    ({"limit": 101}, "/limit"),
])
def test_bad_path_bounds(world: Registry, kwargs: dict[str, int], path: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        world.lineage_paths(RAW, DEPLOY, **kwargs)
    assert [e.path for e in raised.value.errors] == [path]


def test_paths_need_two_known_assets(world: Registry) -> None:
    with pytest.raises(NotFound) as raised:
        world.lineage_paths(RAW, "deployment:ml/nope")
    assert [e.path for e in raised.value.errors] == ["/target"]
    with pytest.raises(InvalidInput):
        world.lineage_paths(RAW, RAW)


def test_blast_radius_counts_every_kind_and_pages_what_is_affected(world: Registry) -> None:
    blast = world.blast_radius(CLEAN)
    assert {t.kind: t.count for t in blast.totals} == {
        "feature": 1, "run": 2, "model_version": 2, "evaluation": 1, "deployment": 1}
    # nearest first, then in order of creation (the evaluation was created first)
    assert [(n.ref, n.depth) for n in blast.items] == [
        (CHURN1, 2), (CHURN2, 2), (EVAL, 3), (DEPLOY, 3)]
    assert blast.next_cursor is None
    first = world.blast_radius(CLEAN, limit=3)
    assert len(first.items) == 3 and first.next_cursor is not None
    second = world.blast_radius(CLEAN, limit=3, cursor=first.next_cursor)
    assert second.totals == first.totals and second.next_cursor is None
    assert [n.ref for n in first.items + second.items] == [n.ref for n in blast.items]


def test_blast_radius_depth_bound(world: Registry) -> None:
    near = world.blast_radius(CLEAN, depth=1)
    assert {t.kind: t.count for t in near.totals} == {"feature": 1, "run": 2}
    assert near.items == []


def test_blast_radius_bad_input(world: Registry) -> None:
    with pytest.raises(InvalidInput) as raised:
        world.blast_radius(CLEAN, cursor="not-a-cursor")
    assert [e.path for e in raised.value.errors] == ["/cursor"]
    with pytest.raises(InvalidInput):
        world.blast_radius(CLEAN, depth=99)
    with pytest.raises(NotFound):
        world.blast_radius("dataset:ml/nope@1")
