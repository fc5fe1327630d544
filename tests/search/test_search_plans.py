"""Search plans (search/engine.py ``_planned``): a query whose tree has a shape
(search/compiler.py ``node_shape``) runs the page statement built for the first query of
that shape, binding its own values by name. A plan that kept a value of the query it was
built for would answer the next one wrongly, so every warm answer here is checked against
the statement built for the query itself (the unplanned path, which any read rule in its
per-call form takes), on SQLite and PostgreSQL; and Hypothesis checks that two trees of
one shape compile to the same SQL with the same values baked in."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from modelatlas.governance.principal import Principal
from modelatlas.registry import Registry
from modelatlas.registry._visibility import bound_visibility, readable_in, visible_to
from modelatlas.search import engine
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
    walk,
)
from modelatlas.search.compiler import Compiler, node_shape, slot_name, slot_values
from modelatlas.search.parser import parse
from modelatlas.store.tables import assets


def _everything(_table: Any) -> Any:
    """A read rule in its per-call form that keeps every row: the unplanned path."""
    return sa.true()


def _page(registry: Registry, q: str, *, visible: Any = None, bound: Any = None,
          sort: str = "relevance", cursor: str | None = None,
          limit: int = 50) -> tuple[list[int], str | None]:
    """The ids of one page and the next cursor: planned when ``visible`` and ``bound`` are
    both None or both given, unplanned when only ``visible`` is."""
    with registry.db.read() as conn:
        hits = engine.search(conn, q, facets=[], sort=sort, cursor=cursor, limit=limit,
                             visible=visible, bound=bound)
    return [row[0] for row in hits.rows], hits.next_cursor


def _unplanned(registry: Registry, q: str) -> list[int]:
    return _page(registry, q, visible=_everything)[0]


def _plans() -> set[Any]:
    return set(engine._PLANS.entries)


# Pairs of one shape, each construct a plan serves; the second differs only in values.
SAME_SHAPE = [
    ("kind:model_version namespace:fraud", "kind:dataset namespace:finance"),
    ("kind:model_version name:churn*", "kind:model name:lt*"),
    ("name:churn_*", "name:txn*"),
    ("-namespace:fraud kind:model_version", "-namespace:growth kind:model_version"),
    ("ref:model_version:fraud/churn@2", "ref:dataset:finance/transactions@3"),
    ("ref:model_version:fraud/churn", "ref:dataset:finance/transactions"),
    ("meta.framework:xgboost", "meta.framework:sklearn"),
    ("meta.framework!=xgboost kind:model_version", "meta.framework!=pytorch kind:model_version"),
    ("metrics.auc>=0.9", "metrics.auc>=0.65"),
    ("metrics.auc>=0.9 metrics.latency_p95_ms<20", "metrics.auc>=0.8 metrics.latency_p95_ms<40"),
    ("meta.metrics.latency_p95_ms>=12", "meta.metrics.latency_p95_ms>=20"),
    ("created>2000-01-01", "created>2999-01-01"),
    ("created>=2000-01-01 created<2999-01-01", "created>=2999-01-01 created<3000-01-01"),
    ("trained_on:dataset:finance/transactions@3", "trained_on:dataset:finance/transactions@1"),
    ("trained_on:dataset:finance/transactions", "trained_on:dataset:finance/txn-clean"),
    ("trained_on*:dataset:finance/transactions", "trained_on*:dataset:finance/txn-clean"),
    ("uses_feature:feature:fraud/txn-aggregates@2", "uses_feature:feature:fraud/nothing@2"),
    ("derived_from*:model_version:fraud/churn@2", "derived_from*:model_version:fraud/churn@1"),
    ("served_by:deployment:fraud/churn-prod", "served_by:deployment:fraud/other"),
    ("kind:model_version (namespace:fraud OR namespace:growth)",
     "kind:dataset (namespace:finance OR namespace:fraud)"),
    ("NOT (kind:model_version OR kind:dataset)", "NOT (kind:model OR kind:run)"),
]


@pytest.mark.parametrize(("first", "second"), SAME_SHAPE)
def test_a_shape_seen_before_answers_with_its_own_values(org: Registry, first: str,
                                                         second: str) -> None:
    assert node_shape(parse(first)) == node_shape(parse(second)) is not None
    cold, _ = _page(org, first)
    assert cold == _unplanned(org, first)
    plans = _plans()
    warm, _ = _page(org, second)
    assert _plans() == plans, "the second query of the shape built a plan of its own"
    assert warm == _unplanned(org, second)
    assert warm != cold  # every pair tells its values apart on this organisation
    assert _page(org, first)[0] == cold


@pytest.mark.parametrize("sort", ["relevance", "name", "-created", "-metrics.auc"])
def test_a_plan_pages_by_its_cursor_as_the_statement_built_per_page(org: Registry,
                                                                    sort: str) -> None:
    pages: dict[bool, list[list[int]]] = {True: [], False: []}
    for planned in (True, False):
        cursor = None
        while True:
            found, cursor = _page(org, "kind:model_version OR kind:dataset", sort=sort,
                                  cursor=cursor, limit=2,
                                  visible=None if planned else _everything)
            pages[planned].append(found)
            if cursor is None:
                break
    assert pages[True] == pages[False]
    assert len(pages[True]) >= 5


def test_each_caller_binds_its_own_read_rule(org: Registry,
                                             readers: tuple[Principal, Principal]) -> None:
    """One plan per read rule serves every caller, each with their own namespaces: vic
    reads fraud and finance, una fraud alone."""
    q = "kind:model_version OR trained_on:dataset:finance/transactions@3 OR kind:dataset"
    answers = {}
    plans: set[Any] | None = None
    for principal in (*readers, *readers):
        with org.db.read() as conn:
            readable = readable_in(conn, principal)
        planned, _ = _page(org, q, visible=visible_to(readable),
                           bound=bound_visibility(readable))
        assert plans is None or _plans() == plans, "another caller built a plan of its own"
        plans = _plans()
        assert planned == _page(org, q, visible=visible_to(readable))[0]
        answers[principal.person] = planned
    assert set(answers["una"]) < set(answers["vic"])
    refs = {a.ref for a in org.search(q, facets=[], principal=readers[1]).items}
    assert refs and all(ref.split(":")[1].startswith("fraud/") for ref in refs)


# -- one shape, one statement: node_shape holds everything the compiler branches on -------
_TEXT = st.sampled_from(["", "a", "ab", "fraud", "a\U0010ffff", "\U0010ffff"])
_MATCH = st.builds(Match, field=st.sampled_from(["kind", "namespace", "name", "state"]),
                   value=_TEXT, prefix=st.booleans(), negated=st.booleans(), column=st.just(1))
_VERSION = st.sampled_from([None, "1", "2"])
_REF = st.builds(RefMatch, kind=st.sampled_from(["model", "dataset"]), namespace=_TEXT,
                 name=_TEXT, version=_VERSION, column=st.just(1))
_WHEN = st.sampled_from([None, "2025-01-01T00:00:00Z", "2026-06-01T00:00:00Z"])
_DATE = st.builds(DateCompare, field=st.sampled_from(["created", "updated"]), since=_WHEN,
                  before=_WHEN, column=st.just(1)).filter(
    lambda d: d.since is not None or d.before is not None)  # as the parser makes them
_JSON = st.builds(JsonCompare, document=st.sampled_from(["meta", "custom"]),
                  path=st.sampled_from([("metrics", "auc"), ("metrics", "f1"), ("framework",),
                                        ("metrics", "auc", "x")]),
                  op=st.sampled_from(["=", "!=", ">", ">=", "<", "<="]),
                  value=st.sampled_from([0.5, 0.9, 3.0, "x", "y"]), column=st.just(1))
_GRAPH = st.one_of(
    st.builds(Graph, predicate=st.sampled_from(["trained_on", "uses_feature", "derived_from"]),
              transitive=st.booleans(), kind=st.just("dataset"), namespace=_TEXT, name=_TEXT,
              version=_VERSION, column=st.just(1)),
    st.builds(Graph, predicate=st.sampled_from(["served_by", "requires"]),
              transitive=st.just(False), kind=st.just("deployment"), namespace=_TEXT,
              name=_TEXT, version=_VERSION, column=st.just(1)))
_LEAF = st.one_of(_MATCH, _REF, _DATE, _JSON, _GRAPH, st.just(Everything()))
_TREE = st.recursive(_LEAF, lambda inner: st.one_of(
    st.builds(Not, inner),
    st.lists(inner, min_size=2, max_size=3).map(lambda ops: And(tuple(ops))),
    st.lists(inner, min_size=2, max_size=3).map(lambda ops: Or(tuple(ops)))), max_leaves=6)
_DIALECTS = {name: sa.create_engine(url).dialect  # dialects only: nothing connects
             for name, url in (("sqlite", "sqlite://"), ("postgresql", "postgresql+psycopg://"))}


_SLOT = re.compile(r"^q\d+_\d+$")


def _compiled(tree: Node, dialect: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """SQL of ``tree``'s plan condition, its slot values and its other (baked) values."""
    places = {id(node): at for at, node in enumerate(walk(tree))}
    condition = Compiler(None, dialect, named=places).condition(tree)  # type: ignore[arg-type]
    compiled = sa.select(assets.c.id).where(condition).compile(dialect=_DIALECTS[dialect])
    params = compiled.construct_params()
    slots = {name: value for name, value in params.items() if _SLOT.match(name)}
    baked = {name: value for name, value in params.items() if not _SLOT.match(name)}
    return compiled.string, slots, baked


def _revalued(draw: st.DrawFn, node: Node) -> Node:
    """``node`` with new values drawn for its value fields, each kept set or unset as it
    was: a tree that may or may not keep the shape (an empty prefix, a last character
    without successor)."""
    def text() -> str:
        return draw(_TEXT)

    def like(value: str | None, choices: list[str]) -> str | None:
        return None if value is None else draw(st.sampled_from(choices))

    if isinstance(node, Not):
        return Not(_revalued(draw, node.operand))
    if isinstance(node, And | Or):
        return type(node)(tuple(_revalued(draw, n) for n in node.operands))
    if isinstance(node, Match):
        return Match(node.field, text(), node.prefix, node.negated, 1)
    if isinstance(node, RefMatch):
        return RefMatch(draw(st.sampled_from(["model", "dataset"])), text(), text(),
                        like(node.version, ["1", "2"]), 1)
    if isinstance(node, Graph):
        return Graph(node.predicate, node.transitive, node.kind, text(), text(),
                     like(node.version, ["1", "2"]), 1)
    if isinstance(node, DateCompare):
        days = ["2025-01-01T00:00:00Z", "2026-06-01T00:00:00Z"]
        return DateCompare(node.field, like(node.since, days), like(node.before, days), 1)
    if isinstance(node, JsonCompare):
        value: float | str = (draw(st.sampled_from(["x", "y", "z"])) if isinstance(node.value, str)
                              else draw(st.sampled_from([0.5, 0.9, 3.0])))
        return JsonCompare(node.document, node.path, node.op, value, 1)
    return node


@st.composite
def _revaluing(draw: st.DrawFn, tree: Node) -> Node:
    return _revalued(draw, tree)


@settings(max_examples=400, deadline=None)
@given(tree=_TREE, data=st.data(), dialect=st.sampled_from(sorted(_DIALECTS)))
def test_one_shape_compiles_to_one_statement(tree: Node, data: st.DataObject,
                                             dialect: str) -> None:
    """What a plan keeps from the query it was built for is its SQL and its baked values:
    both must be the same for every tree of its shape. Each slot holds its node's value
    (SQLAlchemy drops a term ORed with everything, and its slot with it)."""
    sql, slots, baked = _compiled(tree, dialect)
    assert slots.items() <= {slot_name(at, index): value for at, node in enumerate(walk(tree))
                             for index, value in enumerate(slot_values(node))}.items()
    other = data.draw(_revaluing(tree))
    if node_shape(other) == node_shape(tree):
        other_sql, _, other_baked = _compiled(other, dialect)
        assert (other_sql, other_baked) == (sql, baked)
