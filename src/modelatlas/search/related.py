"""Related assets: what shares datasets (through the runs that produced both), features,
tags or lineage with an asset, scored in SQL.

One ``UNION ALL`` of evidence rows ``(asset_id, weight, reason, via_id)``, summed per
asset; the reasons of the top assets come from the same rows. Every leg walks an index of
``relations`` (``source_id, relation, target_id`` or ``target_id, relation``) or
``asset_tags`` (``tag, asset_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelatlas.search.visibility import Visible
from modelatlas.store.tables import asset_tags, assets, relations

# What one piece of evidence is worth.
SHARED_DATASET = 3.0
SHARED_FEATURE = 3.0
LINEAGE = 2.0
SIBLING = 1.0
SHARED_TAG = 1.0
FAN_OUT = 2000  # evidence rows read per kind of evidence


@dataclass
class Related:
    asset_id: int
    score: float
    reasons: list[str] = field(default_factory=list)


def _lit(value: Any, type_: Any = sa.String) -> Any:
    return sa.literal(value, type_)


def _shared_inputs(x: int) -> sa.Select[Any]:
    """Model versions whose producing run used a dataset or feature this one's run used."""
    p1, u1, u2, p2 = (relations.alias(n) for n in ("p1", "u1", "u2", "p2"))
    via = assets.alias("via")
    weight = sa.case((via.c.kind == "dataset", SHARED_DATASET), else_=SHARED_FEATURE)
    return (
        sa.select(p2.c.target_id.label("asset_id"), weight.label("weight"),
                  _lit("shares").label("reason"), u1.c.target_id.label("via_id"))
        .select_from(p1)
        .join(u1, sa.and_(u1.c.source_id == p1.c.source_id, u1.c.relation == "used"))
        .join(via, sa.and_(via.c.id == u1.c.target_id, via.c.kind.in_(["dataset", "feature"])))
        .join(u2, sa.and_(u2.c.target_id == u1.c.target_id, u2.c.relation == "used"))
        .join(p2, sa.and_(p2.c.source_id == u2.c.source_id, p2.c.relation == "produced"))
        .where(p1.c.target_id == x, p1.c.relation == "produced", p2.c.target_id != x)
    )


def _shared_requirements(x: int) -> sa.Select[Any]:
    """Assets that require the same feature (or schema, environment) as this one."""
    r1, r2 = relations.alias("r1"), relations.alias("r2")
    return (
        sa.select(r2.c.source_id.label("asset_id"), _lit(SHARED_FEATURE, sa.Float),
                  _lit("shares"), r1.c.target_id)
        .select_from(r1)
        .join(r2, sa.and_(r2.c.target_id == r1.c.target_id, r2.c.relation == "requires"))
        .where(r1.c.source_id == x, r1.c.relation == "requires", r2.c.source_id != x)
    )


def _lineage(x: int) -> list[sa.Select[Any]]:
    """Direct neighbours (either direction; ``version_of`` counts as siblings instead)."""
    out = (sa.select(relations.c.target_id, _lit(LINEAGE, sa.Float),
                     sa.literal_column("'lineage: ' || relations.relation", sa.String),
                     relations.c.target_id)
           .where(relations.c.source_id == x, relations.c.relation != "version_of"))
    inward = (sa.select(relations.c.source_id, _lit(LINEAGE, sa.Float),
                        sa.literal_column("'in:' || relations.relation", sa.String),
                        relations.c.source_id)
              .where(relations.c.target_id == x))
    v1, v2 = relations.alias("v1"), relations.alias("v2")
    siblings = (sa.select(v2.c.source_id, _lit(SIBLING, sa.Float), _lit("another version of"),
                          v1.c.target_id)
                .select_from(v1)
                .join(v2, sa.and_(v2.c.target_id == v1.c.target_id,
                                  v2.c.relation == "version_of"))
                .where(v1.c.source_id == x, v1.c.relation == "version_of",
                       v2.c.source_id != x))
    return [out, inward, siblings]


def _shared_tags(x: int) -> sa.Select[Any]:
    t1, t2 = asset_tags.alias("t1"), asset_tags.alias("t2")
    return (sa.select(t2.c.asset_id, _lit(SHARED_TAG, sa.Float),
                      (_lit("shares tag:") + t1.c.tag), sa.cast(sa.null(), sa.BigInteger))
            .select_from(t1).join(t2, t2.c.tag == t1.c.tag)
            .where(t1.c.asset_id == x, t2.c.asset_id != x))


def _capped(leg: sa.Select[Any], index: int) -> sa.Select[Any]:
    """At most :data:`FAN_OUT` evidence rows of one kind, the most recent assets first: a
    tag or dataset shared with fifty thousand versions would otherwise be read whole on
    every call, and the best candidates are those with evidence of several kinds anyway."""
    named = leg.with_only_columns(*(
        column.label(name) for column, name in zip(
            leg.selected_columns, ("asset_id", "weight", "reason", "via_id"), strict=True)))
    inner = named.order_by(sa.literal_column("asset_id").desc()).limit(FAN_OUT).subquery(
        f"leg_{index}")
    return sa.select(*inner.c)


def _top(evidence: Any, limit: int, visible: Visible | None) -> Any:
    """The ``limit`` best-scored assets; only readable ones, filtered before the limit so
    a caller still gets ``limit`` of them."""
    scored = (sa.select(evidence.c.asset_id, sa.func.sum(evidence.c.weight).label("score"))
              .group_by(evidence.c.asset_id)
              .order_by(sa.func.sum(evidence.c.weight).desc(), evidence.c.asset_id))
    if visible is not None:  # one primary-key probe per evidence row, never a scan
        shown = assets.alias("shown")
        scored = scored.select_from(evidence.join(shown, shown.c.id == evidence.c.asset_id)
                                    ).where(visible(shown))
    return scored.limit(limit).subquery("top")


def related(conn: Connection, asset_id: int, *, limit: int,
            visible: Visible | None = None) -> list[Related]:
    """The ``limit`` assets with most evidence of a relation to ``asset_id``, best first.
    With ``visible`` (None: everything), only assets the caller may read are returned,
    and a reason does not name an asset they may not read (the evidence still counts:
    a shared input the caller cannot see is said to be "restricted", as lineage redacts
    a node rather than leave a gap)."""
    legs = [_shared_inputs(asset_id), _shared_requirements(asset_id),
            *_lineage(asset_id), _shared_tags(asset_id)]
    evidence = sa.union_all(*(_capped(leg, i) for i, leg in enumerate(legs))).cte(
        "evidence").prefix_with("MATERIALIZED")
    top = _top(evidence, limit, visible)
    via = assets.alias("via")
    named = via.c.id == evidence.c.via_id
    if visible is not None:
        named = sa.and_(named, visible(via))
    rows = conn.execute(
        sa.select(top.c.asset_id, top.c.score, evidence.c.reason, via.c.kind, via.c.namespace,
                  via.c.name, via.c.version, evidence.c.via_id)
        .select_from(top.join(evidence, evidence.c.asset_id == top.c.asset_id)
                     .outerjoin(via, named))
        .order_by(top.c.score.desc(), top.c.asset_id, evidence.c.reason)
    )
    found: dict[int, Related] = {}
    for row in rows:
        item = found.setdefault(row.asset_id, Related(row.asset_id, float(row.score)))
        reason = row.reason
        if row.kind is not None:
            ref = f"{row.kind}:{row.namespace}/{row.name}"
            ref += f"@{row.version}" if row.version else ""
            if reason.startswith("in:"):  # an edge into this asset reads from its source
                reason = f"lineage: {ref} {reason[3:]} this"
            else:
                reason += f" {ref}"
        elif visible is not None and row.via_id is not None:  # one the caller cannot read
            reason = "lineage: a restricted asset" if reason.startswith("in:") else (
                f"{reason} a restricted asset")
        if reason not in item.reasons:
            item.reasons.append(reason)
    return list(found.values())
