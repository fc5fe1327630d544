"""The recursive step of every lineage walk, one builder per backend behind one interface.

A walk moves from the assets it has reached along stored edges. Which end of an edge it
matches depends on the direction and on the relation: every relation but the inverse ones
(``produced``, as :mod:`modelatlas.relations` records with ``prov_inverse``) points from the
dependent to its dependency, so *downstream* (what depends on X) follows those edges
backwards (``target_id = X`` -> ``source_id``) and inverse ones forwards. Each step is one
index lookup per reached asset, reading only the index: ``relations`` has ``(source_id,
relation, target_id)`` and ``(target_id, relation, source_id)`` (migration 0014);
``relation_history`` has ``(source_id|target_id, relation, added_at)``.

SQLite lets the recursive part of a CTE be several SELECTs, each joining the CTE once;
PostgreSQL allows one reference, so its step is a ``LATERAL`` union of the lookups.
Both deduplicate with ``UNION`` on ``(id, depth)`` (an asset reached by many paths at the
same depth is expanded once), and the ``depth < :depth`` bound ends every walk, cycles
included; callers keep each asset's smallest depth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from modelatlas.relations import RELATIONS

Way = Literal["upstream", "downstream"]

INVERSE = tuple(sorted(name for name, rel in RELATIONS.items() if rel.prov_inverse))
_WORD = re.compile(r"^[a-z_]+$")


def sql_list(words: tuple[str, ...] | list[str]) -> str:
    """Vocabulary words (relations, kinds: already checked against their registries) as an
    SQL list literal. Inlined rather than bound so each filter compiles to a plain ``IN``
    the planner can use with the index, on both backends."""
    for word in words:
        if not _WORD.match(word):
            raise ValueError(f"not a vocabulary word: {word!r}")
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"


@dataclass(frozen=True)
class EdgeSource:
    """Where edges are read: live ``relations``, or ``relation_history`` as of a time
    (bound as ``:as_of``)."""

    as_of: str | None = None

    @property
    def table(self) -> str:
        return "relations" if self.as_of is None else "relation_history"

    def alive(self, alias: str) -> str:
        if self.as_of is None:
            return ""
        return (f" AND {alias}.added_at <= :as_of"
                f" AND ({alias}.removed_at IS NULL OR {alias}.removed_at > :as_of)")


@dataclass(frozen=True)
class Step:
    """One kind of hop: match the reached asset on ``match``, move to ``next``, for the
    relations ``predicate`` admits."""

    match: str
    next: str
    predicate: str


def steps(way: Way, relations: tuple[str, ...]) -> list[Step]:
    """The hops of a walk ``way`` following ``relations`` (empty: every relation)."""
    forward = ("target_id", "source_id") if way == "downstream" else ("source_id", "target_id")
    inverse = (forward[1], forward[0])
    if relations:
        plain = tuple(r for r in relations if r not in INVERSE)
        flipped = tuple(r for r in relations if r in INVERSE)
        pairs = [(forward, f"IN {sql_list(plain)}") if plain else None,
                 (inverse, f"IN {sql_list(flipped)}") if flipped else None]
    else:
        pairs = [(forward, f"NOT IN {sql_list(INVERSE)}"), (inverse, f"IN {sql_list(INVERSE)}")]
    return [Step(cols[0], cols[1], pred) for cols, pred in filter(None, pairs)]


class WalkDialect(Protocol):
    """Builds ``name(id, depth)``: the root (``:root``, depth 0) and every asset reached
    from it in at most ``:depth`` hops of ``steps``, once per depth it is reached at.
    Cost: one index lookup per (asset, depth, step)."""

    def walk_cte(self, name: str, hops: list[Step], edges: EdgeSource, *,
                 fused: bool = False) -> str:
        """``fused``: the walk stops after ``:walk_fuse`` rows (its first rows breadth
        first; the caller learns whether it stopped by counting them)."""
        ...

    def trail_cte(self, hops: list[Step]) -> str:
        """``trail(id, hops, nodes, rels)``: every cycle-free path from ``:source`` over
        live relations, ``nodes`` the ids (``,1,5,9,``) and ``rels`` the relation of each
        hop (``used,produced,``), extended only through assets in ``dist(id, depth)``
        close enough to end at ``:target`` within ``:depth`` hops, and not past it. Paths
        come shortest first; the caller's ``LIMIT`` stops the search (SQLite also stops
        after ``:fuse`` rows, PostgreSQL computes only the rows fetched)."""
        ...


class SqliteWalk:
    def walk_cte(self, name: str, hops: list[Step], edges: EdgeSource, *,
                 fused: bool = False) -> str:
        branches = [
            f"SELECT r.{s.next}, w.depth + 1 FROM {name} AS w"
            f" JOIN {edges.table} AS r ON r.{s.match} = w.id"
            f" WHERE w.depth < :depth AND r.relation {s.predicate}{edges.alive('r')}"
            for s in hops
        ]
        # a LIMIT inside the recursive CTE ends the recursion (SQLite expands each row
        # as it outputs it, so the fuse also bounds the index lookups); outside, SQLite
        # would compute the whole walk first
        fuse = " LIMIT :walk_fuse" if fused else ""
        return (f"{name}(id, depth) AS (SELECT :root, 0 UNION "
                + " UNION ".join(branches) + fuse + ")")

    def trail_cte(self, hops: list[Step]) -> str:
        branches = [
            f"SELECT r.{s.next}, t.hops + 1, t.nodes || r.{s.next} || ',',"
            f" t.rels || r.relation || ',' FROM trail AS t"
            f" JOIN relations AS r ON r.{s.match} = t.id JOIN dist AS d ON d.id = r.{s.next}"
            f" WHERE t.id <> :target AND t.hops + 1 + d.depth <= :depth"
            f" AND r.relation {s.predicate}"
            f" AND instr(t.nodes, ',' || r.{s.next} || ',') = 0"
            for s in hops
        ]
        return ("trail(id, hops, nodes, rels) AS (SELECT :source, 0,"
                " ',' || :source || ',', '' UNION ALL "
                + " UNION ALL ".join(branches) + " LIMIT :fuse)")


class PostgresWalk:
    def walk_cte(self, name: str, hops: list[Step], edges: EdgeSource, *,
                 fused: bool = False) -> str:
        lookups = " UNION ALL ".join(
            f"SELECT r.{s.next} AS id FROM {edges.table} AS r WHERE r.{s.match} = w.id"
            f" AND r.relation {s.predicate}{edges.alive('r')}"
            for s in hops
        )
        inner = name + "_all" if fused else name
        walk = (f"{inner}(id, depth) AS (SELECT CAST(:root AS BIGINT), 0 UNION"
                f" SELECT s.id, w.depth + 1 FROM {inner} AS w"
                f" CROSS JOIN LATERAL ({lookups}) AS s WHERE w.depth < :depth)")
        if not fused:
            return walk
        # PostgreSQL allows no LIMIT in the recursive term, but computes a recursive CTE
        # only as far as it is read, one depth after the other
        return walk + f", {name}(id, depth) AS (SELECT id, depth FROM {inner} LIMIT :walk_fuse)"

    def trail_cte(self, hops: list[Step]) -> str:
        lookups = " UNION ALL ".join(
            f"SELECT r.{s.next} AS id, r.relation FROM relations AS r WHERE r.{s.match} = t.id"
            f" AND r.relation {s.predicate}"
            for s in hops
        )
        return ("trail(id, hops, nodes, rels) AS (SELECT CAST(:source AS BIGINT), 0,"
                " CAST(',' || CAST(:source AS TEXT) || ',' AS TEXT), CAST('' AS TEXT)"
                " UNION ALL SELECT s.id, t.hops + 1, t.nodes || s.id || ',',"
                " t.rels || s.relation || ',' FROM trail AS t"
                f" CROSS JOIN LATERAL ({lookups}) AS s JOIN dist AS d ON d.id = s.id"
                " WHERE t.id <> :target AND t.hops + 1 + d.depth <= :depth"
                " AND position(',' || s.id || ',' IN t.nodes) = 0)")


def dialect_for(name: str) -> WalkDialect:
    if name == "postgresql":
        return PostgresWalk()
    if name == "sqlite":
        return SqliteWalk()
    raise ValueError(f"no lineage queries for {name!r}")


def reached_cte(dialect: WalkDialect, ways: tuple[Way, ...], relations: tuple[str, ...],
                edges: EdgeSource, *, fused: bool = False) -> str:
    """``walk_*`` CTEs and ``reached(id, depth, direction)``: each asset other than the root
    once, at its smallest depth (in both directions, the nearer side; downstream on a tie).
    ``fused``: each walk stops after ``:walk_fuse`` rows. The text follows ``WITH
    RECURSIVE``."""
    ctes = [dialect.walk_cte(f"walk_{way}", steps(way, relations), edges, fused=fused)
            for way in ways]
    sides = [f"SELECT id, MIN(depth) AS depth, '{way}' AS direction FROM walk_{way}"
             f" WHERE id <> :root GROUP BY id" for way in ways]
    if len(sides) == 1:
        reached = sides[0]
    else:
        reached = (
            "SELECT id, depth, direction FROM (SELECT id, depth, direction, ROW_NUMBER() OVER"
            " (PARTITION BY id ORDER BY depth, direction) AS rn FROM ("
            + " UNION ALL ".join(sides) + ") AS x) AS y WHERE rn = 1"
        )
    return ", ".join(ctes) + f", reached AS ({reached})"
