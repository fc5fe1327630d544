"""The paths between two assets, along influence, bounded in length and number.

A path search first measures, with one bounded walk back from the target, how far every
asset that can reach the target is from it; the path CTE then only extends a path through
assets that can still reach the target within the depth bound. Every partial path it keeps
is therefore the beginning of a path that is returned (or cut by the count), so the search
costs about as much as its answer, not as much as everything within ``depth`` hops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.lineage._cte import INVERSE, EdgeSource, Way, dialect_for, steps
from modelatlas.lineage.walk import Edge, Reached

# SQLite evaluates a recursive CTE into a queue before the outer LIMIT applies: this many
# partial paths at most, whatever the graph (PostgreSQL stops when the LIMIT is met).
FUSE = 50_000


@dataclass
class Path:
    node_ids: list[int]
    edges: list[Edge]


@dataclass
class PathsResult:
    paths: list[Path] = field(default_factory=list)
    nodes: dict[int, Reached] = field(default_factory=dict)
    truncated: bool = False


def _statement(dialect: str, way: Way) -> str:
    back: Way = "upstream" if way == "downstream" else "downstream"
    build = dialect_for(dialect)
    return (
        "WITH RECURSIVE "
        + build.walk_cte("walk_back", steps(back, ()), EdgeSource())
        + ", dist AS (SELECT id, MIN(depth) AS depth FROM walk_back GROUP BY id), "
        + build.trail_cte(steps(way, ()))
        + " SELECT nodes, rels FROM trail WHERE id = :target LIMIT :cap"
    )


def _search(conn: Connection, way: Way, source_id: int, target_id: int, depth: int,
            limit: int) -> list[Path]:
    params = {"source": source_id, "target": target_id, "root": target_id, "depth": depth,
              "cap": limit + 1, "fuse": FUSE}
    rows = conn.execute(sa.text(_statement(conn.dialect.name, way)), params).all()
    found = []
    for row in rows:
        ids = [int(part) for part in row.nodes.strip(",").split(",")]
        rels = row.rels.strip(",").split(",") if row.rels else []
        edges = []
        for (here, there), relation in zip(pairwise(ids), rels, strict=True):
            # downstream follows inverse relations (produced) as stored, the others
            # backwards; upstream the opposite
            stored_ahead = (relation in INVERSE) == (way == "downstream")
            edges.append(Edge(here, relation, there) if stored_ahead
                         else Edge(there, relation, here))
        found.append(Path(ids, edges))
    return found


def paths_between(conn: Connection, source_id: int, target_id: int, *, depth: int,
                  limit: int) -> PathsResult:
    """Up to ``limit`` shortest-first paths of at most ``depth`` hops from ``source_id``
    down to ``target_id`` (what the source influenced); when there are none, the paths
    from the target down to the source, still listed from ``source_id``."""
    found = _search(conn, "downstream", source_id, target_id, depth, limit)
    if not found:
        found = _search(conn, "upstream", source_id, target_id, depth, limit)
    result = PathsResult(paths=found[:limit], truncated=len(found) > limit)
    ids = {i for path in result.paths for i in path.node_ids}
    if ids:
        rows = conn.execute(
            sa.text("SELECT id, kind, namespace, name, version, state, created_at FROM assets"
                    " WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": sorted(ids)},
        ).all()
        result.nodes = {int(r.id): Reached(int(r.id), r.kind, r.namespace, r.name, r.version,
                                           r.state, r.created_at, 0, "path") for r in rows}
    return result
