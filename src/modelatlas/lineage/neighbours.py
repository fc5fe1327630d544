"""One side of an asset's direct neighbours, counted and paged: what a lineage explorer needs
to open an asset with 1,000 dependents without loading them all.

One statement per page: the one-hop lookups of :mod:`._cte` (each reads only an index of
``relations``), the count of distinct neighbours per kind (the whole side, not the page),
one keyset page of them by id (optionally of one kind), and the stored edges between the
asset and that page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.lineage._cte import Way, steps
from modelatlas.lineage.walk import Edge, Reached

_TOTAL, _ITEM, _EDGE = 0, 1, 2  # the parts of the statement's answer


@dataclass
class Neighbours:
    """``totals``: distinct neighbours per kind on this side; ``items``: one page (by id);
    ``edges``: the stored relations between the asset and the page's items."""

    totals: dict[str, int] = field(default_factory=dict)
    items: list[Reached] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    more: bool = False


@lru_cache(maxsize=8)
def _statement(way: Way, by_kind: bool) -> sa.TextClause:
    # outward: 1 when the stored edge points from the asset to the neighbour
    hops = " UNION ALL ".join(
        f"SELECT r.{s.next} AS id, r.relation AS relation,"
        f" {1 if s.match == 'source_id' else 0} AS outward FROM relations AS r"
        f" WHERE r.{s.match} = :root AND r.relation {s.predicate}"
        for s in steps(way, ())
    )
    kind_filter = " AND a.kind = :kind" if by_kind else ""
    return sa.text(
        f"WITH hop AS ({hops}),"
        " near AS (SELECT DISTINCT id FROM hop WHERE id <> :root),"
        " page AS (SELECT a.id, a.kind, a.namespace, a.name, a.version, a.state, a.created_at"
        f" FROM near JOIN assets AS a ON a.id = near.id WHERE a.id > :after{kind_filter}"
        " ORDER BY a.id LIMIT :cap)"
        " SELECT 0 AS part, a.kind, COUNT(*) AS n, CAST(NULL AS BIGINT) AS id,"
        " NULL AS namespace, NULL AS name, NULL AS version, NULL AS state,"
        " NULL AS created_at, NULL AS relation, CAST(NULL AS INTEGER) AS outward"
        " FROM near JOIN assets AS a ON a.id = near.id GROUP BY a.kind"
        " UNION ALL SELECT 1, kind, NULL, id, namespace, name, version, state, created_at,"
        " NULL, NULL FROM page"
        " UNION ALL SELECT 2, NULL, NULL, h.id, NULL, NULL, NULL, NULL, NULL, h.relation,"
        " h.outward FROM hop AS h WHERE h.id IN (SELECT id FROM page)"
    )  # built once per shape: parsing the text costs more than a small page


def neighbours(conn: Connection, root_id: int, *, direction: Way, kind: str | None,
               after: int, limit: int) -> Neighbours:
    """The assets one hop ``direction`` of ``root_id``: counts per kind, and those (of
    ``kind``, when given) with an id above ``after``, at most ``limit``."""
    params: dict[str, object] = {"root": root_id, "after": after, "cap": limit + 1}
    if kind is not None:
        params["kind"] = kind
    rows = conn.execute(_statement(direction, kind is not None), params).all()
    found = Neighbours(totals={r[1]: int(r[2]) for r in rows if r[0] == _TOTAL})
    items = sorted((Reached(int(r[3]), r[1], r[4], r[5], r[6], r[7], r[8], 1, direction)
                    for r in rows if r[0] == _ITEM), key=lambda n: n.id)
    found.more = len(items) > limit
    found.items = items[:limit]
    kept = {n.id for n in found.items}
    found.edges = sorted(
        (Edge(root_id, r[9], int(r[3])) if r[10] else Edge(int(r[3]), r[9], root_id)
         for r in rows if r[0] == _EDGE and int(r[3]) in kept),
        key=lambda e: (e.source_id, e.relation, e.target_id))
    return found
