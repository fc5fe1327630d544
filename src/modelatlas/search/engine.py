"""Run a search: parse, compile, fetch one page in keyset order, count the facets.
Everything runs in the database inside the caller's read transaction."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.bounded import Bounded
from modelatlas.search.ast import Node, walk
from modelatlas.search.compiler import (
    NO_RANK,
    Compiler,
    node_shape,
    ranked_terms,
    slot_name,
    slot_values,
)
from modelatlas.search.facet_keys import key_positions
from modelatlas.search.facets import FacetCounter, FacetSpec, KeyedHits, check_facets, facet_config
from modelatlas.search.parser import parse
from modelatlas.search.sorting import (
    SortKey,
    after,
    cursor_name,
    decode_cursor,
    encode_cursor,
    order_by,
    row_values,
    sort_keys,
)
from modelatlas.search.visibility import BoundVisibility, Visible
from modelatlas.store.prepared import Prepared, fetch_shaped, json_as_text
from modelatlas.store.tables import assets


@dataclass
class Hits:
    """One page of asset rows (the ``PAGE_COLUMNS`` of ``assets`` by position, then the
    sort values), the facet counts and the cursor."""

    rows: Sequence[Sequence[Any]]
    json_text: bool = False  # the JSON columns are their stored text (SQLite): to decode
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    next_cursor: str | None = None
    unknown_tags: list[str] = field(default_factory=list)


def search(
    conn: Connection,
    q: str,
    *,
    facets: list[str] | None,
    sort: str,
    cursor: str | None,
    limit: int,
    tree: Node | None = None,
    visible: Visible | None = None,
    bound: BoundVisibility | None = None,
) -> Hits:
    """One page of ``q``'s hits; ``tree`` is ``q`` already parsed, when the caller has it.
    ``visible`` keeps the assets the caller may read (None: all, and no SQL added): it is
    part of the one condition, so the page, the cursor and every facet count cover only
    those. ``bound`` is the same rule in bound form (None with ``visible``): with it, a
    query of a shape seen before runs its plan (:func:`_planned`)."""
    config = facet_config()
    wanted = check_facets(facets, config)
    tree = tree if tree is not None else parse(q)
    compiler = Compiler(conn, conn.dialect.name, visible=visible)
    shape = node_shape(tree) if (visible is None) == (bound is None) else None
    if shape is not None:
        keys = sort_keys(sort, None)  # a planned query has no free text to rank
        labels = _labels(keys)
        rows = _planned(conn, (conn.dialect.name, shape, sort, cursor is not None,
                               bound.rule if bound is not None else None), tree, keys, labels,
                        decode_cursor(cursor, sort, q, keys) if cursor else None, limit, bound)
    else:
        condition = _visible_only(compiler.condition(tree), visible)
        terms = ranked_terms(tree) if sort == "relevance" else []
        ranks = compiler.ranks(terms) if terms else None
        rank = sa.func.coalesce(ranks.c.rank, NO_RANK) if ranks is not None else None
        keys = sort_keys(sort, rank)
        labels = _labels(keys)
        # on the driver's cursor, compiled once per shape: for 500 hits, SQLAlchemy's
        # execution and its result rows cost as much CPU as SQLite reading them
        rows = fetch_shaped(conn, _page_select(
            condition, keys, labels, ranks,
            after(keys, decode_cursor(cursor, sort, q, keys)) if cursor else None, limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    specs = {name: config.facets[name] for name in wanted}
    counts: dict[str, list[tuple[str, int]]] = {}
    if specs:
        keyed = _keyed(conn, tree, visible, specs)
        # counted from the keyed hits, the facets read no condition: none is compiled
        counted = _counted(conn, tree, visible) if keyed is None else None
        counts = FacetCounter(conn, compiler.json, counted, config.top, visible,
                              keyed=keyed).count(specs)
    return Hits(
        rows=rows,
        json_text=json_as_text(conn),
        facets=counts,
        next_cursor=encode_cursor(sort, q, _last_values(rows[-1], labels)) if more else None,
        unknown_tags=compiler.unknown_tags,
    )


# A plan per query shape (search/compiler.py ``node_shape``), sort, cursor-or-not and read
# rule: its page statement, built and compiled once.
_PLANS: Bounded[Prepared] = Bounded(256)


def _planned(conn: Connection, key: Hashable, tree: Node, keys: list[SortKey],
             labels: list[str], cursor: list[Any] | None, limit: int,
             bound: BoundVisibility | None) -> list[Any]:
    """The page of ``tree`` by its shape's plan: the statement :func:`_page_select` builds,
    with every value of the query, the cursor, the limit and the read rule bound by name,
    so the next query of the shape only binds its own values. Building the statement and
    its cache key per call was a third of a 100-hit page's time."""
    plan = _PLANS.get(key)
    if plan is None:
        places = {id(node): at for at, node in enumerate(walk(tree))}
        rule = bound.rule.assets if bound is not None else None
        condition = Compiler(conn, conn.dialect.name, visible=rule, named=places).condition(tree)
        plan = Prepared(_page_select(
            _visible_only(condition, rule), keys, labels, None,
            after(keys, cursor, named=True) if cursor is not None else None,
            sa.bindparam(_LIMIT, limit + 1, sa.Integer)))
        _PLANS.put(key, plan)
    values = {slot_name(at, index): value for at, node in enumerate(walk(tree))
              for index, value in enumerate(slot_values(node))}
    values[_LIMIT] = limit + 1
    if cursor is not None:
        values.update((cursor_name(index), value) for index, value in enumerate(cursor))
    if bound is not None:
        values.update(bound.params)
    return plan.all(conn, values)


_LIMIT = "page_limit"


def _page_select(condition: ColumnElement[bool], keys: list[SortKey], labels: list[str],
                 ranks: Any, beyond: ColumnElement[bool] | None, limit: Any) -> sa.Select[Any]:
    """The page statement: the hits of ``condition`` (after ``beyond``, a cursor's keyset)
    in the order of ``keys``, at most ``limit`` rows; ``ranks`` are free text's."""
    source: Any = assets
    if ranks is not None:
        source = assets.outerjoin(ranks, ranks.c.asset_id == assets.c.id)
    # the tables the sort reads, each once (a metric's two keys share its row's join)
    for table, on in dict.fromkeys(k.joins for k in keys if k.joins is not None):
        source = source.outerjoin(table, on)
    sort_values = [k.expr.label(n) for k, n in zip(keys, labels, strict=True) if n != _ID]
    page = _PAGE_SELECT.add_columns(*sort_values) if sort_values else _PAGE_SELECT
    stmt = page.select_from(source).where(condition)
    if beyond is not None:
        stmt = stmt.where(beyond)
    return stmt.order_by(*_order(keys, labels)).limit(limit)


def _labels(keys: list[SortKey]) -> list[str]:
    return [_ID if k.expr is assets.c.id else f"sort_{i}" for i, k in enumerate(keys)]


def _visible_only(condition: ColumnElement[bool],
                  visible: Visible | None) -> ColumnElement[bool]:
    return condition if visible is None else sa.and_(condition, visible(assets))


_ID = "id"
# What a page row holds: the columns an Asset is built from (registry/_rows.py; a test
# checks they are all here) and ``id``, which every order ends on. Not ``select(assets)``:
# a page is up to 500 rows, and each column read is paid per row.
PAGE_COLUMNS = ("id", "kind", "namespace", "name", "version", "description", "owners", "tags",
                "meta", "custom", "schema_version", "state", "digests", "revision",
                "created_at", "created_by", "updated_at", "updated_by")
# built once: selecting 18 columns was half of building a page's statement
_PAGE_SELECT = sa.select(*(assets.c[name] for name in PAGE_COLUMNS))


def _last_values(row: Sequence[Any], labels: list[str]) -> list[Any]:
    """The sort values of a page's last row, for its cursor: ``id`` is the page's first
    column, the other sort values follow the ``PAGE_COLUMNS`` in label order."""
    return row_values(dict(zip((*PAGE_COLUMNS, *(n for n in labels if n != _ID)), row,
                               strict=True)), labels)


def _order(keys: list[SortKey], labels: list[str]) -> list[Any]:
    """ORDER BY the sort keys: by label, except ``id``, selected once as itself."""
    ordered = order_by(keys, labels)
    return [(sa.desc(assets.c.id) if key.descending else assets.c.id) if label == _ID
            else by_label for key, label, by_label in zip(keys, labels, ordered, strict=True)]


def _counted(conn: Connection, tree: Node, visible: Visible | None) -> ColumnElement[bool]:
    """The condition facets count under: the page's, compiled again with metric ranges
    scoped (:class:`Compiler`), which counts every hit from one index range where the
    page's form stops at its first page. Same hits, different plan."""
    scoped = Compiler(conn, conn.dialect.name, visible=visible, scoped_metrics=True)
    counted = scoped.condition(tree)
    return counted if visible is None else sa.and_(counted, visible(assets))


def _keyed(conn: Connection, tree: Node, visible: Visible | None,
           specs: dict[str, FacetSpec]) -> KeyedHits | None:
    """The hits with their facet keys (migration 0025), when the query's hits are a scoped
    metric range and every facet asked for is in the keys or counted by hit id: the
    facets are then counted without reading the hits' asset rows. None otherwise."""
    if not specs:
        return None
    scoped = Compiler(conn, conn.dialect.name, visible=visible, scoped_metrics=True)
    source = scoped.keyed_hits(tree, visible(assets) if visible is not None else None)
    if source is None:
        return None
    positions = key_positions(conn, specs)
    return KeyedHits(source, positions) if positions is not None else None
