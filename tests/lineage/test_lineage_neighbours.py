"""One side of an asset's direct neighbours, counted and paged (``lineage_neighbours``):
checked against the one-hop walk of :meth:`Registry.lineage` on both backends, so the two
can never disagree about what "directly upstream" means."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from lineage_world import AGG, CHURN1, CLEAN, TRAIN1

from modelatlas.errors import InvalidInput, NotFound, UnknownKind
from modelatlas.registry import Registry
from modelatlas.registry.lineage_types import LineageEdge


def _all_pages(registry: Registry, ref: str, direction: str, kind: str | None = None
               ) -> tuple[list[str], list[LineageEdge], int]:
    """Every neighbour by pages of one, the edges of every page, and the pages taken."""
    refs: list[str] = []
    edges: list[LineageEdge] = []
    cursor, pages = None, 0
    while True:
        page = registry.lineage_neighbours(ref, direction=direction, kind=kind, cursor=cursor,
                                           limit=1)
        refs += [n.ref for n in page.items]
        edges += page.edges
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return refs, edges, pages


@pytest.mark.parametrize("ref", [CLEAN, CHURN1, AGG])
@pytest.mark.parametrize("direction", ["upstream", "downstream"])
def test_pages_hold_exactly_the_one_hop_walk(world: Registry, ref: str, direction: str) -> None:
    walk = world.lineage(ref, {"direction": direction, "depth": 1})
    expected = {n.ref: n.kind for n in walk.nodes if n.ref != ref}
    first = world.lineage_neighbours(ref, direction=direction)
    assert {t.kind: t.count for t in first.totals} == Counter(expected.values())
    assert {n.ref for n in first.items} == set(expected)
    assert all(n.depth == 1 and n.direction == direction for n in first.items)
    refs, edges, pages = _all_pages(world, ref, direction)
    assert sorted(refs) == sorted(expected) and len(refs) == len(set(refs))
    assert pages == max(len(refs), 1)
    touching = {(e.source, e.relation, e.target) for e in walk.edges
                if ref in (e.source, e.target)}
    assert {(e.source, e.relation, e.target) for e in edges} == touching


def test_one_kind_is_paged_alone_and_totals_stay_whole(world: Registry) -> None:
    runs = world.lineage_neighbours(CLEAN, direction="downstream", kind="run")
    assert [n.kind for n in runs.items] == ["run", "run"]
    assert TRAIN1 in {n.ref for n in runs.items}
    assert {t.kind for t in runs.totals} == {"run", "feature"}
    assert _all_pages(world, CLEAN, "downstream", "feature")[0] == [AGG]


def test_bad_questions_name_their_field(world: Registry) -> None:
    with pytest.raises(InvalidInput) as side:
        world.lineage_neighbours(CLEAN, direction="both")
    assert [e.path for e in side.value.errors] == ["/direction"]
    with pytest.raises(UnknownKind):
        world.lineage_neighbours(CLEAN, kind="spaceship")
    with pytest.raises(InvalidInput) as cursor:
        world.lineage_neighbours(CLEAN, cursor="###")
    assert [e.path for e in cursor.value.errors] == ["/cursor"]
    with pytest.raises(NotFound):
        world.lineage_neighbours("dataset:ml/nope@1")


def test_the_api_pages_and_locates_errors(world: Registry, base_url: str) -> None:
    url = f"{base_url}/api/v1/lineage-neighbours/{CLEAN}"
    first = httpx.get(url, params={"direction": "downstream", "limit": 2}).json()
    assert sum(t["count"] for t in first["totals"]) == 3
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = httpx.get(url, params={"direction": "downstream", "limit": 2,
                                  "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    bad = httpx.get(url, params={"direction": "sideways"})
    assert bad.status_code == 422
    assert [e["path"] for e in bad.json()["errors"]] == ["query/direction"]
