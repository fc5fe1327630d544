"""Upstream and downstream of one asset: a bounded walk in the database.

One statement answers a walk: the recursive CTEs of :mod:`._cte`, the nearest ``limit``
assets of the requested kinds (plus the root), and the stored edges between them, so the
graph is never loaded into Python; only the answer is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.lineage._cte import EdgeSource, Way, dialect_for, reached_cte, sql_list

Direction = Literal["upstream", "downstream", "both"]


@dataclass(frozen=True)
class Reached:
    """An asset the walk reached: its ref's parts, state and creation time, and its depth
    (fewest hops from the root) on the ``direction`` side (``root`` for the root)."""

    id: int
    kind: str
    namespace: str
    name: str
    version: str
    state: str
    created_at: str
    depth: int
    direction: str


@dataclass(frozen=True)
class Edge:
    """A stored relation, as stored: ``source_id --relation--> target_id``."""

    source_id: int
    relation: str
    target_id: int


@dataclass(frozen=True)
class WalkSpec:
    """A bounded walk. ``relations`` limits the edges followed and returned, ``kinds`` the
    assets returned (the walk passes through every kind); both empty means all.
    ``as_of`` (a stored-format UTC time) walks the graph as it was then; ``limit`` caps the
    nodes returned, root included."""

    root_id: int
    direction: Direction = "downstream"
    depth: int = 3
    relations: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    as_of: str | None = None
    limit: int = 1000


@dataclass
class WalkResult:
    nodes: list[Reached] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False


def ways(direction: Direction) -> tuple[Way, ...]:
    return ("downstream", "upstream") if direction == "both" else (direction,)


_NODE_COLUMNS = "a.id, a.kind, a.namespace, a.name, a.version, a.state, a.created_at"


def _statement(dialect: str, spec: WalkSpec) -> str:
    edges = EdgeSource(spec.as_of)
    where = []
    if spec.kinds:
        where.append(f"a.kind IN {sql_list(spec.kinds)}")
    if spec.as_of is not None:
        where.append("a.created_at <= :as_of")
    rel_filter = f" AND r.relation IN {sql_list(spec.relations)}" if spec.relations else ""
    return (
        "WITH RECURSIVE "
        + reached_cte(dialect_for(dialect), ways(spec.direction), spec.relations, edges)
        + f", picked AS (SELECT {_NODE_COLUMNS}, p.depth, p.direction"
        # unfiltered, the nearest are picked before the assets are read: a walk that
        # reaches far more than it returns reads only the rows it returns
        + (" FROM reached AS p JOIN assets AS a ON a.id = p.id"
           " WHERE " + " AND ".join(where) if where else
           " FROM (SELECT id, depth, direction FROM reached ORDER BY depth, id LIMIT :cap)"
           " AS p JOIN assets AS a ON a.id = p.id")
        + " ORDER BY p.depth, a.id LIMIT :cap)"
        f", nodes AS (SELECT {_NODE_COLUMNS}, 0 AS depth, 'root' AS direction"
        " FROM assets AS a WHERE a.id = :root UNION ALL SELECT * FROM picked)"
        " SELECT 'n' AS part, id, kind, namespace, name, version, state, created_at, depth,"
        " direction, NULL AS relation, NULL AS target_id FROM nodes"
        " UNION ALL SELECT 'e', r.source_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        f" r.relation, r.target_id FROM nodes AS n JOIN {edges.table} AS r"
        " ON r.source_id = n.id JOIN nodes AS m ON m.id = r.target_id"
        f" WHERE 1 = 1{rel_filter}{edges.alive('r')}"
    )


@lru_cache(maxsize=256)
def _compiled(dialect: str, spec_shape: WalkSpec) -> sa.TextClause:
    """The statement of a walk shape (root, depth and cap are bound, not part of it), built
    once: parsing the text for its bind parameters costs more than a small walk."""
    return sa.text(_statement(dialect, spec_shape))


def walk(conn: Connection, spec: WalkSpec) -> WalkResult:
    """The root and the nearest ``spec.limit - 1`` assets within ``spec.depth`` hops
    (nearest first, then oldest), and the edges among them; ``truncated`` when the walk
    reached more."""
    params: dict[str, Any] = {"root": spec.root_id, "depth": spec.depth, "cap": spec.limit}
    if spec.as_of is not None:
        params["as_of"] = spec.as_of
    shape = replace(spec, root_id=0, depth=0, limit=0, as_of="" if spec.as_of else None)
    rows = conn.execute(_compiled(conn.dialect.name, shape), params).all()
    # rows by position, not by name: a named lookup on a Row costs more than the walk's
    # SQL per row once there are a few hundred rows
    nodes = sorted(
        (Reached(int(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], int(r[8]), r[9])
         for r in rows if r[0] == "n"),
        key=lambda n: (n.depth, n.id),
    )
    result = WalkResult(truncated=len(nodes) > spec.limit)
    result.nodes = nodes[: spec.limit]
    kept = {n.id for n in result.nodes}
    links = {(int(r[1]), r[10], int(r[11])) for r in rows if r[0] == "e"}
    result.edges = [Edge(*link) for link in sorted(links)
                    if link[0] in kept and link[2] in kept]
    return result
