"""Walks that reach more than their limit stop early (lineage/walk.py's fuse and shorter
bound) yet answer exactly what the whole walk would: checked against a breadth-first
search in Python over the stored relations, on both backends.

The organisation: a root dataset with three derived datasets (depth 1); each used by four
runs, one run also using a second dataset (depth 2); each run produced a model version
(depth 3), each model version but the first derived from the one before (edges among the
deepest nodes, which a shorter bound never steps from); a deployment serves the last one.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from lineage_world import create, link

from modelatlas import lineage
from modelatlas.refs import Ref
from modelatlas.registry import LineageGraph, LineageQuery, Registry, VersionRegistration
from modelatlas.registry._queries import require_id
from worlds import Worlds

ROOT = "dataset:org/root@1"
DERIVED = [f"dataset:org/d{i}@1" for i in range(3)]
RUNS = [f"run:org/r{i}-{j}" for i in range(3) for j in range(4)]
VERSIONS = [f"model_version:org/m@{k + 1}" for k in range(len(RUNS))]
DEPLOY = "deployment:org/api"
# the module, not the function the package exports under the same name
walk_module = importlib.import_module("modelatlas.lineage.walk")


def _build(registry: Registry) -> None:
    for ref in (ROOT, *DERIVED, DEPLOY):
        create(registry, ref)
    for ref in DERIVED:
        link(registry, ref, "derived_from", ROOT)
    for k, run in enumerate(RUNS):
        registry.register_version("org", "m", VersionRegistration(
            run={"name": run.split("/")[1]}, datasets=[DERIVED[k // 4]],
            derived_from=[VERSIONS[k - 1]] if k else []))
    link(registry, RUNS[5], "used", DERIVED[2])  # a run reached twice at the same depth
    link(registry, DEPLOY, "serves", VERSIONS[-1])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def org(request: pytest.FixtureRequest, world_cache: Worlds) -> Iterator[Registry]:
    """One organisation per backend for the module: its tests only read it."""
    with world_cache.shared(request.param, _build) as registry:
        yield registry


def _stored(registry: Registry) -> tuple[dict[int, tuple[str, str]], list[tuple[int, str, int]]]:
    """Every asset (id -> ref, created_at) and every relation, read plainly."""
    with registry.db.read() as conn:
        assets = {
            int(r.id): (f"{r.kind}:{r.namespace}/{r.name}" + (f"@{r.version}" if r.version
                                                               else ""), r.created_at)
            for r in conn.execute(sa.text(
                "SELECT id, kind, namespace, name, version, created_at FROM assets"))
        }
        edges = [(int(r[0]), r[1], int(r[2])) for r in conn.execute(
            sa.text("SELECT source_id, relation, target_id FROM relations"))]
    return assets, edges


def _side(edges: list[tuple[int, str, int]], root: int, way: str,
          depth: int) -> dict[int, int]:
    """Fewest hops from ``root`` along influence: downstream goes from a dependency to its
    dependents (``produced`` from the run to its output), upstream the other way."""
    step: dict[int, list[int]] = {}
    for source, relation, target in edges:
        ahead, behind = (source, target) if relation == "produced" else (target, source)
        if way == "upstream":
            ahead, behind = behind, ahead
        step.setdefault(ahead, []).append(behind)
    seen, queue = {root: 0}, deque([root])
    while queue:
        here = queue.popleft()
        if seen[here] == depth:
            continue
        for there in step.get(here, []):
            if there not in seen:
                seen[there] = seen[here] + 1
                queue.append(there)
    del seen[root]
    return seen


def expected(registry: Registry, ref: str, query: LineageQuery) -> dict[str, Any]:
    """What a walk answers, computed in Python from every stored row."""
    assets, edges = _stored(registry)
    with registry.db.read() as conn:
        root = require_id(conn, Ref.parse(ref))
    ways = ["downstream", "upstream"] if query.direction == "both" else [query.direction]
    found: dict[int, tuple[int, str]] = {}
    for way in ways:  # downstream first: it wins a tie
        for asset_id, hops in _side(edges, root, way, query.depth).items():
            if asset_id not in found or hops < found[asset_id][0]:
                found[asset_id] = (hops, way)
    if query.kinds:
        found = {i: f for i, f in found.items() if assets[i][0].split(":")[0] in query.kinds}
    ranked = sorted(found, key=lambda i: (found[i][0], i))
    kept = [root, *ranked[: query.limit - 1]]
    nodes = [(assets[i][0], 0 if i == root else found[i][0],
              "root" if i == root else found[i][1]) for i in kept]
    inside = set(kept)
    links = sorted((s, r, t) for s, r, t in edges if s in inside and t in inside)
    return {"nodes": nodes, "edges": [(assets[s][0], r, assets[t][0]) for s, r, t in links],
            "truncated": len(found) >= query.limit}


def answered(graph: LineageGraph) -> dict[str, Any]:
    return {"nodes": [(n.ref, n.depth, n.direction) for n in graph.nodes],
            "edges": [(e.source, e.relation, e.target) for e in graph.edges],
            "truncated": graph.truncated}


CASES = [
    (ROOT, "downstream", 10, limit) for limit in (1, 2, 3, 4, 5, 9, 16, 17, 27, 28, 29, 40)
] + [
    (ROOT, "downstream", 2, 6), (ROOT, "downstream", 3, 20), (DEPLOY, "upstream", 20, 5),
    (DEPLOY, "upstream", 20, 15), (DEPLOY, "upstream", 20, 100), (RUNS[5], "both", 6, 4),
    (RUNS[5], "both", 6, 12), (DERIVED[1], "both", 3, 7), (VERSIONS[3], "both", 20, 200),
]


@pytest.mark.parametrize(("ref", "direction", "depth", "limit"), CASES)
def test_a_capped_walk_answers_as_the_whole_walk(org: Registry, ref: str, direction: str,
                                                 depth: int, limit: int) -> None:
    query = LineageQuery.model_validate(
        {"direction": direction, "depth": depth, "limit": limit})
    assert answered(org.lineage(ref, query)) == expected(org, ref, query)


@pytest.mark.parametrize(("ref", "direction", "kinds", "limit"), [
    (ROOT, "downstream", ["model_version"], limit) for limit in (1, 2, 5, 12, 13, 40)
] + [(ROOT, "downstream", ["run", "deployment"], 14), (DEPLOY, "upstream", ["dataset"], 3),
     (DEPLOY, "upstream", ["dataset", "run"], 100), (RUNS[5], "both", ["model_version"], 3)])
def test_a_walk_of_some_kinds_answers_as_the_whole_walk(
        org: Registry, ref: str, direction: str, kinds: list[str], limit: int) -> None:
    query = LineageQuery.model_validate(
        {"direction": direction, "depth": 10, "limit": limit, "kinds": kinds})
    assert answered(org.lineage(ref, query)) == expected(org, ref, query)


def test_walks_on_many_threads_at_once_answer_as_one_does(org: Registry) -> None:
    """Each walk by levels writes its connection's own table: walks running side by side
    (as a server's threads run them) never see each other's assets."""
    queries = [(ROOT, LineageQuery(depth=10, limit=limit)) for limit in (3, 9, 17, 40)] + [
        (DEPLOY, LineageQuery(direction="upstream", depth=20, limit=limit)) for limit in (5, 100)]
    alone = [answered(org.lineage(ref, query)) for ref, query in queries]
    with ThreadPoolExecutor(max_workers=6) as pool:
        rounds = list(pool.map(lambda i: answered(org.lineage(*queries[i % len(queries)])),
                               range(12 * len(queries))))
    assert rounds == [alone[i % len(queries)] for i in range(12 * len(queries))]


def test_filters_still_walk_whole(org: Registry) -> None:
    """Kinds and relations filters give what the whole walk gives, filtered."""
    only = org.lineage(ROOT, {"depth": 10, "limit": 5, "kinds": ["model_version"]})
    assert [n.ref for n in only.nodes] == [ROOT, *VERSIONS[:4]] and only.truncated
    assert {n.depth for n in only.nodes[1:]} == {3}
    used = org.lineage(ROOT, {"depth": 10, "limit": 3, "relations": ["derived_from", "used"]})
    assert [n.ref for n in used.nodes] == [ROOT, DERIVED[0], DERIVED[1]] and used.truncated


@pytest.mark.parametrize(("ref", "depth"), [(ROOT, 10), (ROOT, 2), (DERIVED[2], 10),
                                           (VERSIONS[0], 10), (DEPLOY, 10)])
def test_the_blast_radius_is_the_whole_downstream_walk(org: Registry, ref: str,
                                                       depth: int) -> None:
    """Totals of every kind downstream, and the affected assets nearest first, page by page
    (on SQLite from the walk by levels, on PostgreSQL from the recursive walk)."""
    assets, edges = _stored(org)
    with org.db.read() as conn:
        root = require_id(conn, Ref.parse(ref))
    reached = _side(edges, root, "downstream", depth)
    kinds = {i: assets[i][0].split(":", 1)[0] for i in reached}
    totals: dict[str, int] = {}
    for kind in kinds.values():
        totals[kind] = totals.get(kind, 0) + 1
    affected = sorted((i for i in reached
                       if kinds[i] in ("model_version", "evaluation", "deployment")),
                      key=lambda i: (reached[i], i))
    pages, cursor = [], None
    while True:
        blast = org.blast_radius(ref, depth=depth, limit=4, cursor=cursor)
        assert {t.kind: t.count for t in blast.totals} == totals
        pages += [(n.ref, n.depth) for n in blast.items]
        cursor = blast.next_cursor
        if cursor is None:
            break
    assert pages == [(assets[i][0], reached[i]) for i in affected]


def _statements(registry: Registry, ref: str, query: LineageQuery) -> list[str]:
    """The statements SQLite ran for the walk (its trace callback sees each)."""
    ran: list[str] = []
    spec = None
    with registry.db.read() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        spec = lineage.WalkSpec(root_id=require_id(conn, Ref.parse(ref)),
                                direction=query.direction, depth=query.depth,
                                limit=query.limit)
        raw.set_trace_callback(ran.append)
        try:
            lineage.walk_rows(conn, spec)
        finally:
            raw.set_trace_callback(None)
    return ran


def _recursive(registry: Registry, ref: str, query: LineageQuery) -> int:
    return sum(1 for sql in _statements(registry, ref, query)
               if sql.lstrip().startswith("WITH RECURSIVE"))


def _levels(registry: Registry, ref: str, query: LineageQuery) -> int:
    return sum(1 for sql in _statements(registry, ref, query)
               if sql.startswith("INSERT OR IGNORE INTO temp.walk_seen"))


def test_a_walk_in_one_direction_goes_one_depth_per_statement(org: Registry) -> None:
    if org.db.dialect != "sqlite":
        pytest.skip("counts statements with SQLite's trace callback")
    # depths 1-4 add 3, 12, 12 and 1 assets; the fifth adds none and ends the walk
    whole = LineageQuery(depth=10, limit=100)
    assert (_levels(org, ROOT, whole), _recursive(org, ROOT, whole)) == (5, 0)
    # depth 2 brings 15 assets: the 8 nearest are all known there
    assert _levels(org, ROOT, LineageQuery(depth=10, limit=8)) == 2
    assert _levels(org, ROOT, LineageQuery(depth=1, limit=100)) == 1
    # the table is empty again after each walk, on the walk's own connection (the table is
    # the connection's), and the next walk sees only its own
    with org.db.read() as conn:
        lineage.walk_rows(conn, lineage.WalkSpec(root_id=require_id(conn, Ref.parse(ROOT)),
                                                 direction="downstream", depth=10, limit=8))
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM temp.walk_seen").scalar() == 0
    graph = org.lineage(ROOT, LineageQuery(depth=10, limit=8))
    assert answered(graph) == expected(org, ROOT, LineageQuery(depth=10, limit=8))


def test_how_many_statements_a_walk_both_ways_takes(org: Registry, monkeypatch: Any) -> None:
    if org.db.dialect != "sqlite":
        pytest.skip("counts statements with SQLite's trace callback")
    # one statement when the walk is smaller than its fuse (upstream of ROOT is empty)
    assert _recursive(org, ROOT, LineageQuery(direction="both", depth=10, limit=100)) == 1
    # a small fuse: the first rows reach depth 2, which holds the 5 nearest: two
    monkeypatch.setattr(walk_module, "FUSE_ROWS", 5)
    assert _recursive(org, ROOT, LineageQuery(direction="both", depth=10, limit=8)) == 2
    # depth 2 holds 15 assets, not 20: the whole walk runs after all
    both = LineageQuery(direction="both", depth=10, limit=21)
    assert _recursive(org, ROOT, both) == 3
    assert answered(org.lineage(ROOT, both)) == expected(org, ROOT, both)


def test_wire_values_are_what_validation_builds(org: Registry) -> None:
    graph = org.lineage(ROOT, {"depth": 10, "limit": 12})
    again = LineageGraph.model_validate(graph.model_dump())
    assert again == graph and graph.model_dump_json() == again.model_dump_json()
    first, second = graph.nodes[0], graph.nodes[1]
    assert first.model_fields_set == set(type(first).model_fields)
    first.state = "deprecated"  # values are per object; only the set of names is shared
    assert second.state == "active" and graph.edges[0].model_copy(
        update={"relation": "used"}).relation == "used"
