"""Compile the query tree into one SQLAlchemy condition on ``assets``.

Every user value travels as a bound parameter; prefixes are ranges, so no LIKE pattern
ever sees user text.
Free text goes to the full-text engine (:mod:`modelatlas.search.fulltext`) and tags
through the vocabulary (:mod:`modelatlas.search.taxonomy`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.search import fulltext, taxonomy
from modelatlas.search._aliases import aliased
from modelatlas.search.ast import (
    And,
    DateCompare,
    Everything,
    Graph,
    JsonCompare,
    Match,
    Node,
    Not,
    Or,
    RefMatch,
    RequiresPackage,
    Text,
    walk,
)
from modelatlas.search.dialects import JsonFunctions, json_functions
from modelatlas.search.fields import QueryError
from modelatlas.search.graph import graph_condition, ref_matches
from modelatlas.search.visibility import Visible
from modelatlas.specifiers import overlaps
from modelatlas.store.tables import asset_metrics, assets, requirements

_COLUMNS = {"kind": assets.c.kind, "namespace": assets.c.namespace, "name": assets.c.name,
            "state": assets.c.state}
_DATES = {"created": assets.c.created_at, "updated": assets.c.updated_at}
NO_RANK = 1e300  # the rank of a result that no free-text term matched (lower is better)


def _bind(value: Any, type_: Any = sa.String) -> Any:
    return sa.bindparam(None, value, type_)


def _prefix_values(prefix: str) -> tuple[str, ...]:
    """The values a prefix condition binds (see :func:`_starts_with`): none for the empty
    prefix, else the range's low end and its high end -- or, when the last character has
    no successor, the prefix again for a comparison of the first characters."""
    if not prefix:
        return ()
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return prefix, prefix
    return prefix, prefix[:-1] + chr(last + 1)


def _prefix_shape(prefix: str) -> Hashable:
    """What of a prefix changes its condition's SQL (not its values)."""
    if not prefix:
        return "all"
    return ("first", len(prefix)) if ord(prefix[-1]) >= 0x10FFFF else "range"


def _starts_with(column: Any, prefix: str, binds: Sequence[Any],
                 dialect: str) -> ColumnElement[bool]:
    """Case-sensitive on both backends, and answerable from an index: the strings that
    start with ``prefix`` are exactly those in [prefix, prefix with its last character
    incremented) in code-point order -- SQLite's BINARY collation, and PostgreSQL's "C"
    collation (a linguistic collation would order them differently). ``binds`` hold
    :func:`_prefix_values`."""
    if not prefix:
        return sa.true()
    if dialect == "postgresql":
        column = column.collate("C")
    low, high = binds
    if ord(prefix[-1]) >= 0x10FFFF:
        return sa.and_(column >= low, sa.func.substr(column, 1, len(prefix)) == high)
    return sa.and_(column >= low, column < high)


@dataclass
class Compiler:
    """Compiles one query against one connection (tags are expanded by reading the
    vocabulary in the same snapshot). ``visible`` (None: everything) limits the assets a
    graph predicate may name; the hits themselves are filtered by :func:`engine.search`.
    ``scoped_metrics`` reads a metric comparison from its (kind, namespace) range when its
    conjunction pins both: for counting every hit (facets), not for one page in id order
    (see :func:`_metric_condition`). ``named`` (a node's ``id`` -> its place in the tree)
    compiles a plan (search/engine.py ``_planned``): each node's values are bound by
    name, so the statement serves every query of its shape with their own values."""

    conn: Connection
    dialect: str
    visible: Visible | None = None
    unknown_tags: list[str] = field(default_factory=list)
    walks: int = 0  # transitive predicates compiled so far: each CTE needs its own name
    scoped_metrics: bool = False
    named: dict[int, int] | None = None

    @property
    def json(self) -> JsonFunctions:
        return json_functions(self.dialect)

    def _slots(self, node: Node, type_: Any = sa.String) -> list[Any]:
        """The bound parameters of ``node``'s values (:func:`slot_values`, in that order):
        named by the node's place when compiling a plan, else anonymous with the values."""
        values = slot_values(node)
        if self.named is None:
            return [sa.bindparam(None, value, type_) for value in values]
        at = self.named[id(node)]
        return [sa.bindparam(slot_name(at, j), value, type_) for j, value in enumerate(values)]

    def _number(self, node: JsonCompare) -> Any:
        """The bound value of a numeric comparison."""
        return self._slots(node, sa.Float)[0]

    def condition(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, And):
            return self._conjunction(node.operands)
        if isinstance(node, Or):
            return sa.or_(*(self.condition(n) for n in node.operands))
        if isinstance(node, Not):
            return sa.not_(self.condition(node.operand))
        if isinstance(node, Everything):
            return sa.true()
        return self._term(node)

    def _conjunction(self, operands: tuple[Node, ...]) -> ColumnElement[bool]:
        scope = _scope(operands) if self.scoped_metrics else None
        metrics = [n for n in operands if isinstance(n, JsonCompare) and _is_metric(n)]
        if scope is None or not metrics:
            return sa.and_(*(self.condition(n) for n in operands))
        # The scoped metric ranges hold only assets of that kind and namespace, so the
        # equalities that pinned them are implied and left out: the planner then fetches
        # each hit by primary key, where with them it probed (namespace, kind, id) first.
        rest = [n for n in operands if n not in metrics and not _pins(n, scope)]
        return sa.and_(*(_metric_condition(n, scope, self._number(n)) for n in metrics),
                       *(self.condition(n) for n in rest))

    def keyed_hits(self, tree: Node,
                   also: ColumnElement[bool] | None) -> sa.Select[Any] | None:
        """(id, facet_key, dataset_key) of every hit of ``tree`` (and of ``also``, a condition on
        ``assets``), read from a scoped metric range of ``asset_metrics`` with each hit's
        facet key (migration 0025); None unless the query is a conjunction that pins a
        kind and a namespace and compares a metric. What the range does not imply is
        checked as ``asset_id IN (...)``: for the bare ``kind:K namespace:N metrics.m>=X``
        nothing is, and no asset row is read."""
        if not isinstance(tree, And):
            return None
        scope = _scope(tree.operands)
        metrics = [n for n in tree.operands if isinstance(n, JsonCompare) and _is_metric(n)]
        if scope is None or not metrics:
            return None
        # one metric row per asset and name: the driving range holds each hit once
        where = [_scoped_range(asset_metrics, metrics[0], scope, self._number(metrics[0]))]
        for node in metrics[1:]:
            other = aliased("asset_metrics", f"keyed_metric_{len(where)}")
            where.append(asset_metrics.c.asset_id.in_(sa.select(other.c.asset_id).where(
                _scoped_range(other, node, scope, self._number(node)))))
        rest = [self.condition(n) for n in tree.operands
                if n not in metrics and not _pins(n, scope)]
        if also is not None:
            rest.append(also)
        if rest:
            where.append(asset_metrics.c.asset_id.in_(
                sa.select(assets.c.id).where(*rest)))
        return sa.select(asset_metrics.c.asset_id.label("id"), asset_metrics.c.facet_key,
                         asset_metrics.c.dataset_key).where(*where)

    def _term(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Text):
            return assets.c.id.in_(sa.select(self._matching(node).c.asset_id))
        if isinstance(node, Match):
            wanted = self._match(node)
            return sa.not_(wanted) if node.negated else wanted
        if isinstance(node, RefMatch):
            return ref_matches(assets, self._slots(node))
        if isinstance(node, JsonCompare):
            return self._json_compare(node)
        if isinstance(node, DateCompare):
            return _date_condition(node, self._slots(node))
        if isinstance(node, Graph):
            self.walks += 1
            return graph_condition(node, self._slots(node), walk=f"reach_{self.walks}",
                                   visible=self.visible)
        if isinstance(node, RequiresPackage):
            return self._requires_package(node)
        raise TypeError(f"not a term: {node!r}")

    def _match(self, node: Match) -> ColumnElement[bool]:
        if node.field == "tag":
            return self._tag(node)
        if node.field == "owner":
            return self.json.contains(assets.c.owners, node.value)
        column = _COLUMNS[node.field]
        binds = self._slots(node)
        if node.prefix:
            return _starts_with(column, node.value, binds, self.dialect)
        return column == binds[0]  # type: ignore[no-any-return]

    def _tag(self, node: Match) -> ColumnElement[bool]:
        tagged = aliased("asset_tags", "q_tags")  # the tag facet joins asset_tags itself
        found = sa.select(sa.literal(1)).where(tagged.c.asset_id == assets.c.id).correlate(
            assets)
        if node.prefix:
            bounds = [_bind(value) for value in _prefix_values(node.value)]
            return sa.exists(found.where(_starts_with(tagged.c.tag, node.value, bounds,
                                                      self.dialect)))
        tags = self._expand(node.value)
        return sa.exists(found.where(tagged.c.tag.in_([_bind(t) for t in tags])))

    def _expand(self, tag: str) -> list[str]:
        """The tag with its synonyms and descendants; a tag the vocabulary does not know
        is searched as written, and reported."""
        if taxonomy.canonical(self.conn, tag) is None and tag not in self.unknown_tags:
            self.unknown_tags.append(tag)
        expanded = [str(t) for t in taxonomy.expand_tag(self.conn, tag)]
        return expanded or [tag]

    def _matching(self, node: Text) -> Any:
        """The full-text engine's ``(asset_id, rank)`` rows for one word or phrase."""
        query = fulltext.full_text_query([_text_term(node)])
        return fulltext.fulltext_backend(self.dialect).select(query).subquery()

    def ranks(self, terms: list[Text]) -> Any:
        """``(asset_id, rank)`` of the free-text terms taken together (lower is better).
        One full-text statement, not one per term: SQLite's bm25() cannot be summed
        across statements, and an asset matching all the words should rank first anyway;
        an asset that only some of them match (under OR) ranks after those that match all.
        """
        query = fulltext.full_text_query([_text_term(t) for t in terms])
        return fulltext.fulltext_backend(self.dialect).select(query).subquery("ranks")

    def _requires_package(self, node: RequiresPackage) -> ColumnElement[bool]:
        """The versions whose declared specifier on the package overlaps the query's. The
        distinct specifiers of one package are few however many versions declare them:
        they are read from the index and decided here, then the versions that declared the
        matching ones are an index range too."""
        declared = sa.select(requirements.c.specifier).where(
            requirements.c.type == "package",
            requirements.c.name == _bind(node.package)).distinct()
        matching = [spec for spec in self.conn.scalars(declared)
                    if overlaps(spec, node.specifier)]
        if not matching:
            return sa.false()
        return assets.c.id.in_(sa.select(requirements.c.asset_id).where(
            requirements.c.type == "package", requirements.c.name == _bind(node.package),
            requirements.c.specifier.in_([_bind(spec) for spec in matching])))

    def _json_compare(self, node: JsonCompare) -> ColumnElement[bool]:
        if _is_metric(node):
            return _metric_condition(node, None, self._number(node))
        column = assets.c.meta if node.document == "meta" else assets.c.custom
        if isinstance(node.value, str):
            text = self.json.text(column, node.path)
            equal = text == self._slots(node)[0]
            # a missing value is not "different": != needs the field present
            return sa.and_(text.is_not(None), sa.not_(equal)) if node.op == "!=" else equal
        number = self.json.number(column, node.path)
        value = self._number(node)
        compare: dict[str, ColumnElement[bool]] = {
            "=": number == value, "!=": number != value, ">": number > value,
            ">=": number >= value, "<": number < value, "<=": number <= value,
        }
        return compare[node.op]


def _is_metric(node: JsonCompare) -> bool:
    return (node.document == "meta" and len(node.path) == 2 and node.path[0] == "metrics"
            and not isinstance(node.value, str))


def _scope(operands: tuple[Node, ...]) -> tuple[str, str] | None:
    """The (kind, namespace) a conjunction pins with plain equalities, if it pins both."""
    pinned: dict[str, str] = {}
    for node in operands:
        if (isinstance(node, Match) and node.field in ("kind", "namespace")
                and not node.prefix and not node.negated):
            pinned.setdefault(node.field, node.value)
    if len(pinned) < 2:
        return None
    return pinned["kind"], pinned["namespace"]


def _pins(node: Node, scope: tuple[str, str]) -> bool:
    return (isinstance(node, Match) and not node.prefix and not node.negated
            and (node.field, node.value) in (("kind", scope[0]), ("namespace", scope[1])))


def _metric_condition(node: JsonCompare, scope: tuple[str, str] | None,
                      value: Any) -> ColumnElement[bool]:
    """``metrics.<name> <op> <number>`` from the metrics side table, which holds exactly
    the JSON numbers under ``meta.metrics``.

    Unscoped, a correlated EXISTS (one primary-key probe per candidate) rather than
    ``id IN (...)``: a broad threshold (auc >= 0.8 holds for a third of all versions) then
    stops at the first page of candidates in id order, instead of materialising and
    sorting every match; and a candidate is rejected without reading its row.

    When the same conjunction pins the kind and the namespace (``scope``), the matches
    are one range of ``(name, kind, namespace, value, asset_id)`` (migration 0024): the
    id set the planner builds from it is the same size as the hits, where the probes
    walked every asset of the namespace and kind. It repeats the conjunction's own
    conditions, so the result is unchanged. Only for counting all hits: the planner
    then drives from the id set, so a page in id order would sort every hit (110 ms for
    a team's auc>=0.5 at 1M, against 5 ms stopping at the first page of probes).
    ``value`` is the number compared with, bound."""
    if scope is not None:
        return assets.c.id.in_(sa.select(asset_metrics.c.asset_id).where(
            _scoped_range(asset_metrics, node, scope, value)))
    return sa.exists(sa.select(sa.literal(1)).where(
        asset_metrics.c.asset_id == assets.c.id,
        _named(asset_metrics, node, value)).correlate(assets))


def _named(metrics: Any, node: JsonCompare, value: Any) -> ColumnElement[bool]:
    """The metric's rows (of ``metrics``, asset_metrics or an alias) that satisfy ``node``
    (``value``: its number, bound)."""
    column = metrics.c.value
    compare: dict[str, ColumnElement[bool]] = {
        "=": column == value, "!=": column != value, ">": column > value,
        ">=": column >= value, "<": column < value, "<=": column <= value,
    }
    return sa.and_(metrics.c.name == _bind(node.path[1]), compare[node.op])


def _scoped_range(metrics: Any, node: JsonCompare, scope: tuple[str, str],
                  value: Any) -> ColumnElement[bool]:
    """``node``'s rows within one (kind, namespace): a range of the scoped index."""
    kind, namespace = scope
    return sa.and_(_named(metrics, node, value), metrics.c.kind == _bind(kind),
                   metrics.c.namespace == _bind(namespace))


def _date_condition(node: DateCompare, binds: Sequence[Any]) -> ColumnElement[bool]:
    """``binds``: the range's bounds that are set, ``since`` first."""
    column = _DATES[node.field]
    given = iter(binds)
    parts = []
    if node.since is not None:
        parts.append(column >= next(given))
    if node.before is not None:
        parts.append(column < next(given))
    return sa.and_(*parts)


def slot_name(at: int, index: int) -> str:
    """The name a plan binds the ``index``-th value of the node at ``at`` under."""
    return f"q{at}_{index}"


def slot_values(node: Node) -> tuple[Any, ...]:
    """The values ``node``'s condition binds, in the order it binds them: the one source
    of them for a compiled condition and for each later query a plan serves."""
    if isinstance(node, Match):
        return _prefix_values(node.value) if node.prefix else (node.value,)
    if isinstance(node, RefMatch | Graph):
        named = (node.kind, node.namespace, node.name)
        return named if node.version is None else (*named, node.version)
    if isinstance(node, DateCompare):
        return tuple(bound for bound in (node.since, node.before) if bound is not None)
    if isinstance(node, JsonCompare):
        return (node.value,)
    return ()


def node_shape(node: Node) -> Hashable | None:
    """What of ``node`` decides its condition's SQL, its :func:`slot_values` aside: two
    trees of one shape compile to one statement (a plan's key, search/engine.py). None for
    what a plan does not serve: free text (ranked), tags and requirements (expanded by
    reading the database), owners."""
    if isinstance(node, Match):
        if node.field not in _COLUMNS:
            return None
        return ("match", node.field, node.negated,
                _prefix_shape(node.value) if node.prefix else None)
    if isinstance(node, RefMatch):
        return ("ref", node.version is None)
    if isinstance(node, Graph):
        return ("graph", node.predicate, node.transitive, node.version is None)
    if isinstance(node, DateCompare):
        return ("date", node.field, node.since is None, node.before is None)
    if isinstance(node, JsonCompare):
        return ("json", node.document, node.path, node.op, isinstance(node.value, str))
    if isinstance(node, Everything):
        return ("everything",)
    if isinstance(node, Not):
        inner = node_shape(node.operand)
        return None if inner is None else ("not", inner)
    if isinstance(node, And | Or):
        parts = tuple(node_shape(n) for n in node.operands)
        return None if None in parts else (type(node).__name__, parts)
    return None


def _text_term(node: Text) -> fulltext.Term:
    """The term of a word or phrase; the parser keeps no word without one."""
    term = fulltext.text_term(node.text, phrase=node.phrase)
    if term is None:
        raise QueryError.at_column(node.column, "has no word to search for")
    return term


def ranked_terms(tree: Node) -> list[Text]:
    """The free-text terms that count towards relevance: those not under a NOT."""
    negated: set[int] = set()
    for node in walk(tree):
        if isinstance(node, Not):
            negated.update(id(n) for n in walk(node.operand))
    return [n for n in walk(tree) if isinstance(n, Text) and id(n) not in negated]
