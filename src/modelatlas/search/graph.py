"""Graph predicates: conditions on ``assets`` answered from ``relations`` in the database.

Direct predicates are ``id IN (...)`` subqueries over one or two edges, driven from the
named target. Transitive ones
(``trained_on*``, ``uses_feature*``, ``derived_from*``) walk *downstream* from the target's
versions with a recursive CTE bounded at :data:`MAX_HOPS`, over two kinds of step:
``x derived_from y`` (y -> x) and "a run used y and produced x" (y -> x). So a model
version fine-tuned from one trained on a dataset derived from ``transactions`` is found by
``trained_on*:dataset:finance/transactions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.search._aliases import aliased
from modelatlas.search.ast import Graph
from modelatlas.search.visibility import Visible
from modelatlas.store.tables import assets, run_inputs

MAX_HOPS = 10


def ref_matches(table: Any, binds: Sequence[Any]) -> ColumnElement[bool]:
    """The rows of ``table`` (``assets`` or an alias) a ref names, its parts bound as
    ``binds``: kind, namespace, name and, when the ref has one, version (without it, every
    version)."""
    columns = [table.c.kind, table.c.namespace, table.c.name, table.c.version]
    return sa.and_(*(column == bind for column, bind in zip(columns, binds, strict=False)))


def _targets(binds: Sequence[Any], visible: Visible | None) -> sa.Select[Any]:
    """The ids the ref bound as ``binds`` names (:func:`ref_matches`); only those the
    caller may read (see :func:`graph_condition`)."""
    target = aliased("assets", "target")
    stmt = sa.select(target.c.id).where(ref_matches(target, binds))
    return stmt if visible is None else stmt.where(visible(target))


def _run_used(subject: Any, targets: sa.Select[Any]) -> ColumnElement[bool]:
    """``subject`` was produced by a run that used one of ``targets``: a range of the
    ``run_inputs`` index (kept by the database from used/produced edges) per target, so
    the versions come in id order without joining the edges for every hit."""
    return subject.in_(  # type: ignore[no-any-return]
        sa.select(run_inputs.c.output_id).where(run_inputs.c.input_id.in_(targets))
    )


def _edge(subject: Any, relation: str, targets: sa.Select[Any], *,
          reverse: bool = False) -> ColumnElement[bool]:
    """``subject -relation-> target`` (or ``target -relation-> subject`` when reversed),
    driven from the targets' edges as in :func:`_run_used`."""
    edge = aliased("relations", f"edge_{relation}")
    near, far = (edge.c.target_id, edge.c.source_id) if reverse else (
        edge.c.source_id, edge.c.target_id)
    return subject.in_(  # type: ignore[no-any-return]
        sa.select(near).where(far.in_(targets), edge.c.relation == relation)
    )


def _downstream(seeds: sa.Select[Any], edges: tuple[str, ...], *,
                through_runs: bool, name: str) -> sa.Select[Any]:
    """The ids reachable downstream of ``seeds`` in 1 to MAX_HOPS steps.

    One step starts from the edges *into* the current node (index on relations(target_id,
    relation)): ``x edge y`` steps from y to x; with ``through_runs``, ``run used y`` is
    followed to what the run produced. One join chain with one reference to the CTE, so
    both databases drive each step from the index (a UNION of step kinds inside the
    recursion made SQLite scan every edge on every step)."""
    seed = seeds.subquery("seeds")
    reach = sa.select(seed.c.id.label("id"), sa.literal(0).label("hops")
                      ).cte(name, recursive=True)
    edge = aliased("relations", "walk_edge")
    produced = aliased("relations", "walk_produced")
    followed = (*edges, "used") if through_runs else edges
    down = sa.case((edge.c.relation == "used", produced.c.target_id), else_=edge.c.source_id)
    step = sa.select(down, reach.c.hops + 1).select_from(
        reach.join(edge, edge.c.target_id == reach.c.id).outerjoin(produced, sa.and_(
            edge.c.relation == "used",
            produced.c.source_id == edge.c.source_id,
            produced.c.relation == "produced",
        ))
    ).where(edge.c.relation.in_(followed), reach.c.hops < MAX_HOPS, down.is_not(None))
    walk = reach.union(step)
    return sa.select(walk.c.id).where(walk.c.hops > 0)


def _unindexed(column: ColumnElement[str]) -> ColumnElement[str]:
    """``column`` as an expression (``column || ''``, the same value on both databases), so
    SQLite does not drive the query from an index on it. A walk reaches a few thousand ids;
    with a plain ``kind = 'model_version'`` SQLite probed (kind, id) for each, read *every*
    reached row and sorted them for the first page; on the ids alone it reads the rows in id
    order and stops at the page (74 -> 40 ms CPU at 1M versions, 5,000 reached)."""
    return column.concat("")


# which edges each transitive predicate follows downstream, and whether through runs
_WALKS: dict[str, tuple[tuple[str, ...], bool]] = {
    "derived_from": (("derived_from",), False),
    "trained_on": (("derived_from",), True),
    "uses_feature": (("derived_from", "requires"), True),
}


def graph_condition(node: Graph, binds: Sequence[Any], subject: Any = assets.c.id, *,
                    walk: str = "reach", visible: Visible | None = None) -> ColumnElement[bool]:
    """The condition on ``subject`` (an asset id column) that ``node`` asks for, its ref's
    parts bound as ``binds`` (the compiler's, search/compiler.py). ``walk`` names a
    transitive predicate's recursive CTE: unique per predicate of one query.

    With ``visible``, the named target counts only if the caller may read it: otherwise
    ``trained_on:dataset:secret/x@1`` answering with hits would confirm that the secret
    dataset exists (and what it fed), so it answers as for a ref that does not exist.
    The assets a transitive walk passes *through* are not filtered: a hit then says only
    that some path leads from a readable asset to a readable one, which lineage shows
    too (as a redacted node), without naming what lies between."""
    targets = _targets(binds, visible)
    if node.transitive:
        edges, through_runs = _WALKS[node.predicate]
        reached = subject.in_(_downstream(targets, edges, through_runs=through_runs,
                                          name=walk))
        if node.predicate == "derived_from":
            return reached  # type: ignore[no-any-return]
        return sa.and_(_unindexed(assets.c.kind) == "model_version", reached)
    if node.predicate == "trained_on":
        return _run_used(subject, targets)
    if node.predicate == "uses_feature":
        return sa.or_(_edge(subject, "requires", targets), _run_used(subject, targets))
    if node.predicate == "served_by":
        return _edge(subject, "serves", targets, reverse=True)
    # derived_from and requires: the subject holds the edge
    return _edge(subject, node.predicate, targets)
