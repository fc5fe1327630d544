"""Upstream and downstream of one asset: a bounded walk in the database.

One statement answers a walk: the recursive CTEs of :mod:`._cte`, the nearest ``limit``
assets of the requested kinds (plus the root), and the stored edges between them, so the
graph is never loaded into Python; only the answer is.

A walk that reaches far more than ``limit`` assets needs only the depths that hold the
nearest ``limit``: when every asset within ``d`` hops is at its fewest hops from the root
(a walk bounded at ``d`` finds the same depths as a deeper one) and there are at least
``limit`` of them, the answer within ``d`` hops *is* the answer within ``depth``. So the
first statement runs with a fuse (the walk stops after a few thousand rows, breadth
first); if it blows, the depth its first rows reached is tried as the bound, and only if
that holds fewer than ``limit`` assets is the whole walk run. Each statement answers only
when its walk is whole (and, bounded short of ``depth``, holds ``limit``), so the result is
the same whichever one answers. A 10-hop walk from a dataset with 20k dependents, capped at
10k, then reads two depths instead of every one.

On SQLite, a walk in one direction that may stop short goes one depth per statement
instead (:mod:`._levels`), and stops at the first depth that brings ``limit`` assets: it
walks the graph once where the fused walk and the bounded one walked it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.lineage._cte import EdgeSource, Way, dialect_for, reached_cte, sql_list
from modelatlas.lineage._levels import SEEN, walked
from modelatlas.store.prepared import Prepared

Direction = Literal["upstream", "downstream", "both"]

# The first statement's walk stops after this many rows at most (fewer for a smaller
# limit): about what an answer of a few thousand nodes costs anyway.
FUSE_ROWS = 2048
_UNBOUNDED = 2**62
_NODE, _EDGE, _DEEPEST = 0, 1, 2  # the parts of a walk statement's answer


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


# (id, kind, namespace, name, version, state, created_at, depth, direction)
NodeRow = tuple[int, str, str, str, str, str, str, int, str]


@dataclass
class WalkRows:
    """A walk's answer as rows, for callers that build their own values from them: nodes
    as :data:`NodeRow` (root first, then nearest, then oldest), edges as ``(source_id,
    relation, target_id)`` sorted."""

    nodes: list[NodeRow]
    edges: list[tuple[int, str, int]]
    truncated: bool


def ways(direction: Direction) -> tuple[Way, ...]:
    return ("downstream", "upstream") if direction == "both" else (direction,)


_NODE_COLUMNS = "a.id, a.kind, a.namespace, a.name, a.version, a.state, a.created_at"


def _gated(spec: WalkSpec) -> bool:
    """Whether the walk may stop short: only when every asset reached is a candidate (no
    ``kinds``, no ``as_of`` filter on the assets), so that holding ``limit`` of them within
    fewer hops decides the answer."""
    return not spec.kinds and spec.as_of is None


def _gate(spec: WalkSpec) -> str:
    """``gate(open)``: 1 when this statement's walk is whole (fewer rows than the fuse)
    and holds at least ``:need`` assets."""
    # counting scans: the walks are counted only when fused (:fused = 1), the assets
    # only as far as :need
    whole = " AND ".join(f"(SELECT COUNT(*) FROM walk_{way}) < :walk_fuse"
                         for way in ways(spec.direction))
    return (f", gate(open) AS (SELECT CASE WHEN (:fused = 0 OR {whole}) AND (SELECT COUNT(*)"
            " FROM (SELECT 1 FROM reached LIMIT :need) AS x) >= :need THEN 1 ELSE 0 END)")


_OPEN = "(SELECT open FROM gate) = 1"
_NO_EDGE = " NULL AS relation, NULL AS target_id"


def _kept(spec: WalkSpec) -> str:
    """``kept``: the root and the nearest ``:cap`` candidates, the assets the answer
    returns. Gated, only ``(id, depth, direction)``: the final SELECT reads their asset rows;
    filtered, with their asset columns, as the filter read them."""
    if _gated(spec):
        # the nearest are picked before any asset row is read: a walk that reaches far
        # more than it returns reads only the rows it returns. Only ids are materialised:
        # copying 10k rows of asset columns into a temporary table cost more than reading
        # them in the final SELECT
        return (", kept(id, depth, direction) AS (SELECT CAST(:root AS BIGINT), 0, 'root'"
                f" WHERE {_OPEN} UNION ALL SELECT * FROM (SELECT id, depth, direction"
                f" FROM reached ORDER BY depth, id LIMIT :cap) AS p WHERE {_OPEN})")
    # the filter reads the candidates' asset rows anyway: keep the columns, so the ones
    # returned are not read a second time
    where = []
    if spec.kinds:
        where.append(f"a.kind IN {sql_list(spec.kinds)}")
    if spec.as_of is not None:
        where.append("a.created_at <= :as_of")
    return (f", kept AS (SELECT {_NODE_COLUMNS}, 0 AS depth, 'root' AS direction"
            " FROM assets AS a WHERE a.id = :root UNION ALL SELECT * FROM"
            f" (SELECT {_NODE_COLUMNS}, p.depth, p.direction FROM reached AS p JOIN assets"
            " AS a ON a.id = p.id WHERE " + " AND ".join(where)
            + " ORDER BY p.depth, a.id LIMIT :cap) AS p)")


def _node_rows(spec: WalkSpec) -> str:
    """The answer's node rows, from ``kept`` (its asset rows read here when gated)."""
    if _gated(spec):
        return (f" SELECT 0 AS part, {_NODE_COLUMNS}, k.depth, k.direction,{_NO_EDGE}"
                " FROM kept AS k JOIN assets AS a ON a.id = k.id")
    return (" SELECT 0 AS part, id, kind, namespace, name, version, state, created_at, depth,"
            f" direction,{_NO_EDGE} FROM kept")


def _edges_among_kept(relations: tuple[str, ...], edges: EdgeSource) -> str:
    """``FROM`` and ``WHERE`` of the stored edges of ``relations`` (empty: all) between the
    assets in ``kept`` (``r``)."""
    rel_filter = f" AND r.relation IN {sql_list(relations)}" if relations else ""
    # IN, not a second join with kept: one index of ids instead of one of rows
    return (f" FROM kept AS k JOIN {edges.table} AS r ON r.source_id = k.id"
            f" WHERE r.target_id IN (SELECT id FROM kept){rel_filter}{edges.alive('r')}")


def _statement(dialect: str, spec: WalkSpec) -> str:
    edges = EdgeSource(spec.as_of)
    gated = _gated(spec)
    return (
        "WITH RECURSIVE "
        + reached_cte(dialect_for(dialect), ways(spec.direction), spec.relations, edges,
                      fused=gated)
        + (_gate(spec) if gated else "")
        + _kept(spec)
        # parts as small integers (node 0, edge 1, deepest 2): Python shares those
        # objects, where each 'n' would be a new string per row
        + _node_rows(spec)
        + " UNION ALL SELECT 1, r.source_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        " r.relation, r.target_id" + _edges_among_kept(spec.relations, edges)
        # a walk that stopped short (or holds too few) says the deepest depth it reached
        + (" UNION ALL SELECT 2, deepest, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
           " NULL, NULL FROM (SELECT MAX(depth) AS deepest FROM reached) AS x"
           f" WHERE NOT {_OPEN}" if gated else "")
    )


@lru_cache(maxsize=256)
def _prepared(dialect: str, direction: Direction, relations: tuple[str, ...],
              kinds: tuple[str, ...], as_of: bool) -> Prepared:
    """The statement of a walk shape (root, depth, cap and the time are bound, not part of
    it), built once and run on the driver's cursor: parsing the text for its bind
    parameters, and SQLAlchemy's statement and row set-up, cost more than a small walk.
    Keyed by the shape's parts, not by a WalkSpec made for the purpose: building one per
    call (dataclasses.replace) cost more than the cache lookup."""
    shape = WalkSpec(root_id=0, direction=direction, depth=0, relations=relations,
                     kinds=kinds, as_of="" if as_of else None, limit=0)
    return Prepared(sa.text(_statement(dialect, shape)))


@dataclass
class _Answer:
    rows: list[Any]
    answered: bool  # the gate was open: the root's row is there
    deepest: int | None  # otherwise, the deepest depth the walk reached (None: none)


def _run(conn: Connection, spec: WalkSpec, *, bound: int, fuse: int, need: int) -> _Answer:
    params: dict[str, Any] = {"root": spec.root_id, "depth": bound, "cap": spec.limit}
    if _gated(spec):
        params.update(walk_fuse=fuse, need=need, fused=int(fuse < _UNBOUNDED))
    if spec.as_of is not None:
        params["as_of"] = spec.as_of
    prepared = _prepared(conn.dialect.name, spec.direction, spec.relations, spec.kinds,
                         spec.as_of is not None)
    rows = prepared.all(conn, params)
    if rows and rows[-1][0] == _DEEPEST:  # the gate was shut: that is the only row
        return _Answer(rows, False, rows[-1][1])
    return _Answer(rows, True, None)


def _answer_rows(conn: Connection, spec: WalkSpec) -> list[Any]:
    """The rows of the first statement that answers (see the module's docstring)."""
    if not _gated(spec):
        return _run(conn, spec, bound=spec.depth, fuse=_UNBOUNDED, need=0).rows
    first = _run(conn, spec, bound=spec.depth, fuse=min(spec.limit, FUSE_ROWS) + 1, need=0)
    if first.answered:
        return first.rows
    # the fused walk's first rows are breadth first: every depth before its deepest is
    # whole, and the deepest may already hold enough
    bound = spec.depth if first.deepest is None else first.deepest
    if bound < spec.depth:
        near = _run(conn, spec, bound=bound, fuse=_UNBOUNDED, need=spec.limit)
        if near.answered:
            return near.rows
    return _run(conn, spec, bound=spec.depth, fuse=_UNBOUNDED, need=0).rows


def _by_levels(dialect: str, spec: WalkSpec) -> bool:
    """Whether the walk goes one depth per statement (:mod:`._levels`): on SQLite, when it
    may stop short and follows one direction. Both directions keep the recursive walk:
    each side needs its own frontier, and the nearest of the two merged."""
    return dialect == "sqlite" and _gated(spec) and spec.direction != "both"


_BY_DEPTH_THEN_ID = itemgetter(7, 0)


@dataclass(frozen=True)
class _LevelAnswer:
    nodes: Prepared  # the nearest :cap reached (root included), as NodeRow
    edges: Prepared  # the stored edges among them, as (source_id, relation, target_id)


@lru_cache(maxsize=64)
def _level_answer(way: Way, relations: tuple[str, ...]) -> _LevelAnswer:
    """The answer of a walk by levels, from ``walk_seen``: nodes and edges by two
    statements, each row as the answer takes it (one statement of both kinds of rows had
    to be split and sliced in Python, a tenth of a 10k-node walk)."""
    # read from walk_seen's (depth, id) index in its order: nothing is sorted
    kept = ("WITH kept(id, depth, direction) AS (SELECT id, depth, CASE depth WHEN 0"
            f" THEN 'root' ELSE '{way}' END FROM {SEEN} ORDER BY depth, id LIMIT :cap)")
    nodes = (f"{kept} SELECT {_NODE_COLUMNS}, k.depth, k.direction FROM kept AS k"
             " JOIN assets AS a ON a.id = k.id")
    edges = (f"{kept} SELECT r.source_id, r.relation, r.target_id"
             + _edges_among_kept(relations, EdgeSource()))
    return _LevelAnswer(Prepared(sa.text(nodes)), Prepared(sa.text(edges)))


def _level_rows(conn: Connection, spec: WalkSpec) -> WalkRows:
    """The walk by levels up to the first depth that brings ``spec.limit`` assets (the
    nearest are then all known, and whether there are more), then the root and the
    nearest ``spec.limit - 1``, and the edges among them. The recursive walk learned that
    depth by walking with a fuse, then walked again to it: on the 1M-version benchmark's
    10k-node answer the levels cost 12 ms where the two walks and their grouping cost 38."""
    way = cast(Way, spec.direction)
    answer = _level_answer(way, spec.relations)
    with walked(conn, spec.root_id, way=way, relations=spec.relations, depth=spec.depth,
                enough=spec.limit) as reached:
        cap = {"cap": spec.limit}
        nodes: list[NodeRow] = answer.nodes.all(conn, cap)
        links = answer.edges.all(conn, cap)
    nodes.sort(key=_BY_DEPTH_THEN_ID)  # in this order already: O(n)
    links.sort()
    # the root and spec.limit others would be one too many
    return WalkRows(nodes, links, truncated=reached >= spec.limit)


def walk_rows(conn: Connection, spec: WalkSpec) -> WalkRows:
    """The root and the nearest ``spec.limit - 1`` assets within ``spec.depth`` hops
    (nearest first, then oldest), and the edges among them; ``truncated`` when the walk
    reached more."""
    if _by_levels(conn.dialect.name, spec):
        return _level_rows(conn, spec)
    rows = _answer_rows(conn, spec)
    # rows by position, sliced: both drivers return ids and depths as int already, and
    # building anything per row costs more than the walk's SQL once there are thousands
    nodes: list[NodeRow] = [r[1:10] for r in rows if r[0] == _NODE]
    # a list, not a set: ids are unique in kept and (source, relation, target) in the
    # table, so the join yields each edge once
    links = [(r[1], r[10], r[11]) for r in rows if r[0] == _EDGE]
    nodes.sort(key=_BY_DEPTH_THEN_ID)  # SQLite returns them in this order already: O(n)
    truncated = len(nodes) > spec.limit
    if truncated:  # one node too many was kept: the farthest goes, and its edges with it
        dropped = nodes.pop()[0]
        links = [link for link in links if link[0] != dropped and link[2] != dropped]
    links.sort()
    return WalkRows(nodes, links, truncated)


def walk(conn: Connection, spec: WalkSpec) -> WalkResult:
    """:func:`walk_rows` as :class:`Reached` and :class:`Edge` values."""
    found = walk_rows(conn, spec)
    return WalkResult(nodes=[Reached(*n) for n in found.nodes],
                      edges=[Edge(*e) for e in found.edges], truncated=found.truncated)
