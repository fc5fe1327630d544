"""Compile the query tree into one SQLAlchemy condition on ``assets``.

Every user value travels as a bound parameter; prefixes are ranges, so no LIKE pattern
ever sees user text.
Free text goes to the full-text engine (:mod:`modelatlas.search.fulltext`) and tags
through the vocabulary (:mod:`modelatlas.search.taxonomy`).
"""

from __future__ import annotations

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
from modelatlas.search.graph import graph_condition
from modelatlas.search.visibility import Visible
from modelatlas.specifiers import overlaps
from modelatlas.store.tables import asset_metrics, assets, requirements

_COLUMNS = {"kind": assets.c.kind, "namespace": assets.c.namespace, "name": assets.c.name,
            "state": assets.c.state}
_DATES = {"created": assets.c.created_at, "updated": assets.c.updated_at}
NO_RANK = 1e300  # the rank of a result that no free-text term matched (lower is better)


def _bind(value: Any, type_: Any = sa.String) -> Any:
    return sa.bindparam(None, value, type_)


def _starts_with(column: Any, prefix: str, dialect: str) -> ColumnElement[bool]:
    """Case-sensitive on both backends, and answerable from an index: the strings that
    start with ``prefix`` are exactly those in [prefix, prefix with its last character
    incremented) in code-point order -- SQLite's BINARY collation, and PostgreSQL's "C"
    collation (a linguistic collation would order them differently)."""
    if not prefix:
        return sa.true()
    if dialect == "postgresql":
        column = column.collate("C")
    low = column >= _bind(prefix)
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return sa.and_(low, sa.func.substr(column, 1, len(prefix)) == _bind(prefix))
    return sa.and_(low, column < _bind(prefix[:-1] + chr(last + 1)))


@dataclass
class Compiler:
    """Compiles one query against one connection (tags are expanded by reading the
    vocabulary in the same snapshot). ``visible`` (None: everything) limits the assets a
    graph predicate may name; the hits themselves are filtered by :func:`engine.search`.
    ``scoped_metrics`` reads a metric comparison from its (kind, namespace) range when its
    conjunction pins both: for counting every hit (facets), not for one page in id order
    (see :func:`_metric_condition`)."""

    conn: Connection
    dialect: str
    visible: Visible | None = None
    unknown_tags: list[str] = field(default_factory=list)
    walks: int = 0  # transitive predicates compiled so far: each CTE needs its own name
    scoped_metrics: bool = False

    @property
    def json(self) -> JsonFunctions:
        return json_functions(self.dialect)

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
        return sa.and_(*(_metric_condition(n, scope) for n in metrics),
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
        where = [_scoped_range(asset_metrics, metrics[0], scope)]
        for node in metrics[1:]:
            other = aliased("asset_metrics", f"keyed_metric_{len(where)}")
            where.append(asset_metrics.c.asset_id.in_(
                sa.select(other.c.asset_id).where(_scoped_range(other, node, scope))))
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
            return _ref_condition(node)
        if isinstance(node, JsonCompare):
            return self._json_compare(node)
        if isinstance(node, DateCompare):
            return _date_condition(node)
        if isinstance(node, Graph):
            self.walks += 1
            return graph_condition(node, walk=f"reach_{self.walks}", visible=self.visible)
        if isinstance(node, RequiresPackage):
            return self._requires_package(node)
        raise TypeError(f"not a term: {node!r}")

    def _match(self, node: Match) -> ColumnElement[bool]:
        if node.field == "tag":
            return self._tag(node)
        if node.field == "owner":
            return self.json.contains(assets.c.owners, node.value)
        column = _COLUMNS[node.field]
        if node.prefix:
            return _starts_with(column, node.value, self.dialect)
        return column == _bind(node.value)  # type: ignore[no-any-return]

    def _tag(self, node: Match) -> ColumnElement[bool]:
        tagged = aliased("asset_tags", "q_tags")  # the tag facet joins asset_tags itself
        found = sa.select(sa.literal(1)).where(tagged.c.asset_id == assets.c.id).correlate(
            assets)
        if node.prefix:
            return sa.exists(found.where(_starts_with(tagged.c.tag, node.value, self.dialect)))
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
            return _metric_condition(node, None)
        column = assets.c.meta if node.document == "meta" else assets.c.custom
        if isinstance(node.value, str):
            text = self.json.text(column, node.path)
            equal = text == _bind(node.value)
            # a missing value is not "different": != needs the field present
            return sa.and_(text.is_not(None), sa.not_(equal)) if node.op == "!=" else equal
        number = self.json.number(column, node.path)
        value = _bind(node.value, sa.Float)
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


def _metric_condition(node: JsonCompare,
                      scope: tuple[str, str] | None) -> ColumnElement[bool]:
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
    a team's auc>=0.5 at 1M, against 5 ms stopping at the first page of probes)."""
    if scope is not None:
        return assets.c.id.in_(sa.select(asset_metrics.c.asset_id).where(
            _scoped_range(asset_metrics, node, scope)))
    return sa.exists(sa.select(sa.literal(1)).where(
        asset_metrics.c.asset_id == assets.c.id, _named(asset_metrics, node)).correlate(assets))


def _named(metrics: Any, node: JsonCompare) -> ColumnElement[bool]:
    """The metric's rows (of ``metrics``, asset_metrics or an alias) that satisfy ``node``."""
    value = _bind(node.value, sa.Float)
    column = metrics.c.value
    compare: dict[str, ColumnElement[bool]] = {
        "=": column == value, "!=": column != value, ">": column > value,
        ">=": column >= value, "<": column < value, "<=": column <= value,
    }
    return sa.and_(metrics.c.name == _bind(node.path[1]), compare[node.op])


def _scoped_range(metrics: Any, node: JsonCompare,
                  scope: tuple[str, str]) -> ColumnElement[bool]:
    """``node``'s rows within one (kind, namespace): a range of the scoped index."""
    kind, namespace = scope
    return sa.and_(_named(metrics, node), metrics.c.kind == _bind(kind),
                   metrics.c.namespace == _bind(namespace))


def _ref_condition(node: RefMatch) -> ColumnElement[bool]:
    parts = [assets.c.kind == _bind(node.kind), assets.c.namespace == _bind(node.namespace),
             assets.c.name == _bind(node.name)]
    if node.version is not None:
        parts.append(assets.c.version == _bind(node.version))
    return sa.and_(*parts)


def _date_condition(node: DateCompare) -> ColumnElement[bool]:
    column = _DATES[node.field]
    parts = []
    if node.since is not None:
        parts.append(column >= _bind(node.since))
    if node.before is not None:
        parts.append(column < _bind(node.before))
    return sa.and_(*parts)


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
