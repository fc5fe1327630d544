"""The blast radius of an asset: everything downstream of it, transitively.

One statement per page: the downstream walk of :mod:`._cte` (on SQLite, the walk by
levels of :mod:`._levels` and then the statement), the count of every kind in it (the
whole radius, not the page), and one keyset page of the assets a change would reach in
production (model versions, evaluations, deployments), nearest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.lineage._cte import EdgeSource, dialect_for, reached_cte, sql_list
from modelatlas.lineage._levels import SEEN, walked
from modelatlas.lineage.walk import Reached
from modelatlas.store.prepared import Prepared

AFFECTED_KINDS = ("deployment", "evaluation", "model_version")


@dataclass
class Blast:
    totals: dict[str, int] = field(default_factory=dict)
    items: list[Reached] = field(default_factory=list)
    more: bool = False


# the totals and one page, from ``hit(id, depth, kind)``: every asset reached but the root,
# materialised (it is read twice) with only its kind: copying every asset's ref and times
# into it (20k of them for a popular dataset) cost more than reading the page's hundred
# rows again
_ANSWER = (
    " SELECT 't' AS part, kind, COUNT(*) AS n, NULL AS id, NULL AS namespace,"
    " NULL AS name, NULL AS version, NULL AS state, NULL AS created_at, NULL AS depth"
    " FROM hit GROUP BY kind"
    " UNION ALL SELECT 'i', a.kind, CAST(NULL AS BIGINT), a.id, a.namespace, a.name,"
    " a.version, a.state, a.created_at, page.depth FROM (SELECT id, depth FROM hit"
    f" WHERE kind IN {sql_list(AFFECTED_KINDS)}"
    " AND (depth > :after_depth OR (depth = :after_depth AND id > :after_id))"
    " ORDER BY depth, id LIMIT :cap) AS page JOIN assets AS a ON a.id = page.id"
)


@lru_cache(maxsize=4)
def _statement(dialect: str) -> sa.TextClause:
    return sa.text(
        "WITH RECURSIVE "
        + reached_cte(dialect_for(dialect), ("downstream",), (), EdgeSource())
        + ", hit AS (SELECT p.id, p.depth, a.kind FROM reached AS p"
        " JOIN assets AS a ON a.id = p.id)" + _ANSWER
    )  # built once per backend: parsing the text costs more than a small radius


# SQLite: the same answer over the walk by levels (each asset reached once, no grouping)
_FROM_LEVELS = Prepared(sa.text(
    f"WITH hit AS (SELECT s.id, s.depth, a.kind FROM {SEEN} AS s JOIN assets AS a"
    " ON a.id = s.id WHERE s.depth > 0)" + _ANSWER))


def _rows(conn: Connection, root_id: int, depth: int, params: dict[str, Any]) -> list[Any]:
    if conn.dialect.name != "sqlite":
        return list(conn.execute(_statement(conn.dialect.name), {
            **params, "root": root_id, "depth": depth}).all())
    with walked(conn, root_id, way="downstream", relations=(), depth=depth):
        return _FROM_LEVELS.all(conn, params)


def blast_radius(conn: Connection, root_id: int, *, depth: int, after: tuple[int, int] | None,
                 limit: int) -> Blast:
    """Totals per kind over everything within ``depth`` hops downstream of ``root_id``, and
    the affected assets after the ``(depth, id)`` key ``after``, at most ``limit``."""
    after_depth, after_id = after or (0, 0)
    rows = _rows(conn, root_id, depth, {"after_depth": after_depth, "after_id": after_id,
                                        "cap": limit + 1})
    # by position: a named lookup on a Row costs more than the row's share of the SQL
    blast = Blast(totals={r[1]: int(r[2]) for r in rows if r[0] == "t"})
    items = sorted(
        (Reached(int(r[3]), r[1], r[4], r[5], r[6], r[7], r[8], int(r[9]), "downstream")
         for r in rows if r[0] == "i"),
        key=lambda n: (n.depth, n.id),
    )
    blast.more = len(items) > limit
    blast.items = items[:limit]
    return blast
