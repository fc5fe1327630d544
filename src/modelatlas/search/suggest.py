"""Autocomplete: the last token of a query completed into refs, names, tags, facet values
and query field names, ranked by learned usage (:mod:`modelatlas.search.usage`), then by
popularity (versions, uses, tagged assets), then alphabetically.

Prefixes are matched as a range on the column (``col >= p AND col < p + U+10FFFF``, so an
index narrows it on both backends) and confirmed with ``substr(col, 1, len(p)) = p``; no
user text reaches a LIKE pattern, so ``%`` and ``_`` are ordinary characters. Matching is
case-sensitive, as refs and tags are. Each source reads at most :data:`CANDIDATES` rows.

A caller who may not read everything gets completions from the assets they may read only
(:class:`~modelatlas.search.visibility.BoundVisibility`): refs, names, tags in use (and
their counts), namespaces and metadata values. The vocabulary's terms and the query
language's fields are open to every caller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.kinds import SPECS
from modelatlas.search import usage
from modelatlas.search._aliases import aliased
from modelatlas.search.dialects import json_functions
from modelatlas.search.facets import facet_config
from modelatlas.search.fields import DATE_FIELDS, GRAPH_PREDICATES, PLAIN_FIELDS, TRANSITIVE
from modelatlas.search.visibility import BoundRule, BoundVisibility
from modelatlas.store.tables import (
    asset_tags,
    asset_usage,
    assets,
    events,
    relations,
    taxonomy_synonyms,
    taxonomy_terms,
    term_usage,
)

SuggestionKind = Literal["ref", "name", "tag", "field", "value"]
CANDIDATES = 200
RECENT = 5000  # facet values of JSON metadata are read from this many newest assets
MAX_TOKEN = 300
USES_CAP = 100
MAX_CACHED = 1024  # (metadata path, readable set) pairs whose recent values are kept
_TOP = "\U0010ffff"


class Suggestion(BaseModel):
    """One completion: ``text`` replaces the last token of the query."""

    text: str
    kind: SuggestionKind
    ref: str | None = None
    score: float = 0.0


@dataclass
class Context:
    conn: Connection
    now: float
    half_life_days: float
    recent: RecentValues
    visible: BoundVisibility | None = None
    limit: int = CANDIDATES  # completions wanted: a ranked source may stop there
    _seq: int | None = None

    @property
    def seq(self) -> int:
        """The newest event's sequence number, read once per suggestion: each metadata path
        asks for it, and a round trip costs more than the statement."""
        if self._seq is None:
            self._seq = self.conn.scalar(sa.select(sa.func.max(events.c.seq))) or 0
        return self._seq

    @property
    def decay(self) -> dict[str, float]:
        """The bound parameters of :func:`usage.decayed_bound`."""
        return usage.decay_params(now=self.now, half_life_days=self.half_life_days)

    @property
    def rule(self) -> BoundRule | None:
        """What the prebuilt statements are keyed by (None: no filter)."""
        return self.visible.rule if self.visible is not None else None

    def params(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with the caller's visibility parameters."""
        return values if self.visible is None else {**values, **self.visible.params}


Ranked = tuple[Suggestion, float]  # the suggestion and its popularity


def query_fields() -> list[str]:
    """Every field of the query language as it is typed (``tag:``, ``metrics.``)."""
    plain = [f"{name}:" for name in (*PLAIN_FIELDS, "ref", *DATE_FIELDS)]
    graph = [f"{name}:" for name in GRAPH_PREDICATES] + [f"{name}*:" for name in TRANSITIVE]
    paths = ["meta.", "metrics.", "custom."]
    for spec in facet_config().facets.values():
        if spec.path:
            head = "metrics" if spec.path[0] == "metrics" else "meta"
            rest = spec.path[1:] if head == "metrics" else spec.path
            paths.append(f"{head}.{'.'.join(rest)}" + (":" if head == "meta" else ""))
    return list(dict.fromkeys((*plain, *graph, *paths)))


# The statements of the sources every bare keystroke runs are built once, with the prefix
# as bound parameters (values from _prefix_params): building and compiling them again for
# each keystroke cost 3-8 ms apiece, a hundred times what SQLite spent running them.
def _bound_prefixed(column: Any) -> ColumnElement[bool]:
    prefix = sa.bindparam("prefix", type_=sa.String)
    return sa.and_(column >= prefix, column < sa.bindparam("prefix_high", type_=sa.String),
                   sa.func.substr(column, 1, sa.bindparam("prefix_length", type_=sa.Integer))
                   == prefix)


def _prefix_params(prefix: str) -> dict[str, Any]:
    return {"prefix": prefix, "prefix_high": prefix + _TOP, "prefix_length": len(prefix)}


def _fields(ctx: Context, token: str) -> list[Ranked]:
    names = [f for f in query_fields() if f.startswith(token) and f != token]
    if not names:
        return []
    keys = {usage.field_term(n): n for n in names}
    learned = _learned(ctx, dict.fromkeys(keys, "field"))
    return [(Suggestion(text=n, kind="field", score=learned.get(k, 0.0)), 0.0)
            for k, n in keys.items()]


def _visible(rule: BoundRule | None, table: Any) -> list[ColumnElement[bool]]:
    return [] if rule is None else [rule.assets(table)]


@cache
def _names_statement(rule: BoundRule | None, dialect: str) -> sa.Select[Any]:
    """The candidates in :func:`rank`'s order (usage, popularity, then the name in code-point
    order: PostgreSQL's "C" collation, SQLite's default), so :func:`_names` reads only the
    best of them."""
    inner = (sa.select(assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name)
             .where(_bound_prefixed(assets.c.name), *_visible(rule, assets))
             .order_by(assets.c.name).limit(CANDIDATES).subquery())
    weight = sa.func.max(usage.decayed_bound(asset_usage)).label("w")
    count = sa.func.count().label("n")
    name = inner.c.name.collate("C") if dialect == "postgresql" else inner.c.name
    return (sa.select(inner.c.kind, inner.c.namespace, inner.c.name, weight, count)
            .select_from(inner.outerjoin(asset_usage, asset_usage.c.asset_id == inner.c.id))
            .group_by(inner.c.kind, inner.c.namespace, inner.c.name)
            .order_by(weight.desc(), count.desc(), name, inner.c.kind, inner.c.namespace))


def _names(ctx: Context, prefix: str, field: str = "") -> list[Ranked]:
    """Names in rank order, up to ``ctx.limit`` distinct ones: any later one ranks below
    those in the merged list too, so building it (a Suggestion each, of up to 200) was
    most of a keystroke's time."""
    if not prefix:
        return []
    params = ctx.params({**_prefix_params(prefix), **ctx.decay})
    out: list[Ranked] = []
    texts: set[str] = set()
    stmt = _names_statement(ctx.rule, ctx.conn.dialect.name)
    with ctx.conn.execute(stmt, params) as rows:  # closed here, though read part way
        for row in rows:
            text = field + row.name
            if text not in texts and len(texts) == ctx.limit:
                break
            texts.add(text)
            kind = "model" if row.kind == "model_version" else row.kind
            out.append((Suggestion(text=text, kind="name", score=row.w,
                                   ref=f"{kind}:{row.namespace}/{row.name}"), float(row.n)))
    return out


def _refs(ctx: Context, kind: str, rest: str, field: str = "") -> list[Ranked]:
    """``fr`` -> namespaces; ``fraud/ch`` -> names; ``fraud/churn@1`` -> versions."""
    space, slash, tail = rest.partition("/")
    name, at, version = tail.partition("@")
    typed = version if at else name if slash else space
    params = ctx.params({**_prefix_params(typed), "ref_kind": kind, "ref_namespace": space,
                         "ref_name": name, **ctx.decay})
    out = []
    for row in ctx.conn.execute(_refs_statement(bool(slash), bool(at), ctx.rule), params):
        ref = f"{kind}:{row.namespace}/{row.name}" + (f"@{row.version}" if row.version else "")
        out.append((Suggestion(text=field + ref, kind="ref", ref=ref, score=row.w),
                    float(row.n)))
    return out


@cache
def _refs_statement(slash: bool, at: bool, rule: BoundRule | None) -> sa.Select[Any]:
    """The statement of one shape of typed ref (see :func:`_refs`), built once. The
    popularity of a readable candidate counts every edge into it (an ordering hint, not
    shown): filtering the edges' sources too would cost a lookup per edge."""
    cond = [assets.c.kind == sa.bindparam("ref_kind", type_=sa.String),
            *_visible(rule, assets)]
    space = sa.bindparam("ref_namespace", type_=sa.String)
    if not slash:
        cond.append(_bound_prefixed(assets.c.namespace))
    elif not at:
        cond += [assets.c.namespace == space, _bound_prefixed(assets.c.name)]
    else:
        cond += [assets.c.namespace == space,
                 assets.c.name == sa.bindparam("ref_name", type_=sa.String),
                 _bound_prefixed(assets.c.version)]
    inner = (sa.select(assets.c.id, assets.c.namespace, assets.c.name, assets.c.version)
             .where(*cond).order_by(assets.c.namespace, assets.c.name, assets.c.version)
             .limit(CANDIDATES).subquery())
    # popularity counts uses up to a cap: a dataset version used by thousands of runs is
    # popular enough, and counting all of them for 200 candidates read a million entries
    first_uses = (sa.select(sa.literal(1).label("one")).select_from(relations)
                  .where(relations.c.target_id == inner.c.id).limit(USES_CAP)
                  .correlate(inner).subquery())
    uses = sa.select(sa.func.count()).select_from(first_uses).scalar_subquery()
    return (sa.select(inner, usage.decayed_bound(asset_usage).label("w"), uses.label("n"))
            .select_from(inner.outerjoin(asset_usage, asset_usage.c.asset_id == inner.c.id)))


def _learned(ctx: Context, keys: dict[str, SuggestionKind]) -> dict[str, float]:
    if not keys:
        return {}
    rows = ctx.conn.execute(_learned_statement(), {"terms": list(keys), **ctx.decay})
    return {term: float(w) for term, w in rows}


# Built once, as the sources' statements are: building the decay expression and its cache
# key again cost more than a keystroke's SQL (a quarter of a ``namespace:`` completion).
@cache
def _learned_statement() -> sa.Select[Any]:
    return (sa.select(term_usage.c.term, usage.decayed_bound(term_usage))
            .where(term_usage.c.term.in_(sa.bindparam("terms", expanding=True))))


@cache
def _learned_values_statement() -> sa.Select[Any]:
    return (sa.select(term_usage.c.term, usage.decayed_bound(term_usage).label("w"))
            .where(_bound_prefixed(term_usage.c.term)).order_by(term_usage.c.term)
            .limit(CANDIDATES))


def _tags_in_use(rule: BoundRule | None) -> sa.Select[Any]:
    """The tags on assets with their counts; only the assets the caller may read."""
    counted = sa.select(asset_tags.c.tag, sa.func.count().label("n"))
    if rule is not None:
        tagged = aliased("assets", "tagged")
        counted = counted.select_from(asset_tags.join(
            tagged, tagged.c.id == asset_tags.c.asset_id)).where(rule.assets(tagged))
    return counted.group_by(asset_tags.c.tag).order_by(asset_tags.c.tag).limit(CANDIDATES)


@cache
def _tag_statements(rule: BoundRule | None) -> tuple[sa.Select[Any], ...]:
    """The tags in use (with their counts), then the vocabulary's terms and synonyms."""
    counted = _tags_in_use(rule).where(_bound_prefixed(asset_tags.c.tag))
    labels = [sa.select(column, sa.literal(0).label("n")).where(_bound_prefixed(column))
              .order_by(column).limit(CANDIDATES)
              for column in (taxonomy_terms.c.term, taxonomy_synonyms.c.synonym)]
    return (counted, *labels)


def _tags(ctx: Context, prefix: str) -> list[Ranked]:
    if not prefix:  # every tag: the unbounded range the bound statements cannot say
        return _all_tags(ctx)
    found: dict[str, float] = {}
    for stmt in _tag_statements(ctx.rule):
        for label, n in ctx.conn.execute(stmt, ctx.params(_prefix_params(prefix))):
            found.setdefault(label, float(n))
    return _ranked_tags(ctx, found)


def _all_tags(ctx: Context) -> list[Ranked]:
    counted = _tags_in_use(ctx.rule)
    found = {row.tag: float(row.n) for row in ctx.conn.execute(counted, ctx.params({}))}
    for column in (taxonomy_terms.c.term, taxonomy_synonyms.c.synonym):
        stmt = sa.select(column).order_by(column)
        for (label,) in ctx.conn.execute(stmt.limit(CANDIDATES)):
            found.setdefault(label, 0.0)
    return _ranked_tags(ctx, found)


def _ranked_tags(ctx: Context, found: dict[str, float]) -> list[Ranked]:
    learned = _learned(ctx, {f"tag:{t}": "tag" for t in found})
    return [(Suggestion(text=f"tag:{t}", kind="tag", score=learned.get(f"tag:{t}", 0.0)), n)
            for t, n in found.items()]


def _namespaces(ctx: Context, prefix: str) -> list[Ranked]:
    found = _distinct_namespaces(ctx.rule)
    names = [row.namespace for row in ctx.conn.execute(found, ctx.params(_prefix_params(prefix)))]
    return _values(ctx, {f"namespace:{ns}": 0.0 for ns in names})


@cache
def _distinct_namespaces(rule: BoundRule | None) -> sa.Select[Any]:
    """The namespaces starting with ``prefix``, by a skip scan of the ``(kind, namespace,
    ...)`` index: per kind, from one namespace straight to the next, so the cost is the
    number of namespaces, not of assets (a GROUP BY read every asset of ``team-1``,
    ``team-10`` ... ``team-19``: a million rows at scale). Popularity is left out for the
    same reason: counting is what cost. A caller who may not read everything sees the
    namespaces they may read something in (a namespace-level test, for the same reason)."""
    # a UNION of literals: SQLite names no columns of a VALUES list in FROM
    kinds = sa.union_all(*(sa.select(sa.literal(k, sa.String).label("kind")) for k in SPECS)
                         ).subquery("suggest_kinds")
    first, later = assets.alias("ns_first"), assets.alias("ns_later")
    prefix = sa.bindparam("prefix", type_=sa.String)
    high = sa.bindparam("prefix_high", type_=sa.String)
    start = sa.select(
        kinds.c.kind.label("kind"),
        sa.select(sa.func.min(first.c.namespace)).where(
            first.c.kind == kinds.c.kind, first.c.namespace >= prefix,
            first.c.namespace < high).scalar_subquery().label("namespace"),
        sa.literal(1).label("step"),
    ).cte("suggest_namespaces", recursive=True)
    following = sa.select(sa.func.min(later.c.namespace)).where(
        later.c.kind == start.c.kind, later.c.namespace > start.c.namespace,
        later.c.namespace < high).scalar_subquery()
    walk = start.union_all(sa.select(start.c.kind, following, start.c.step + 1).where(
        start.c.namespace.is_not(None), start.c.step < CANDIDATES))
    readable = [] if rule is None else [rule.namespaces(walk.c.namespace)]
    return (sa.select(walk.c.namespace).where(_bound_prefixed(walk.c.namespace), *readable)
            .distinct().order_by(walk.c.namespace).limit(CANDIDATES))


def _values(ctx: Context, counted: dict[str, float]) -> list[Ranked]:
    learned = _learned(ctx, dict.fromkeys(counted, "value"))
    return [(Suggestion(text=text, kind="value", score=learned.get(text, 0.0)), n)
            for text, n in counted.items()]


def _json_values(ctx: Context, path: tuple[str, ...], prefix: str) -> list[Ranked]:
    """Values of a metadata path among the newest :data:`RECENT` assets."""
    field = "meta." + ".".join(path)
    counted = ctx.recent.values(ctx.conn, path, ctx.visible, seq=ctx.seq)
    found = [(v, n) for v, n in counted if v.startswith(prefix)][:CANDIDATES]
    return _values(ctx, {f"{field}:{v}": n for v, n in found})


class RecentValues:
    """The values of JSON metadata paths among the newest :data:`RECENT` assets, with
    their counts: read once, then again only when the event sequence has moved. Reading
    them cost a scan of thousands of metadata documents per keystroke. One per registry
    and process, derived from the database and invalidated by it, so processes never
    need to agree on it. A caller who may not read everything gets the values of the
    newest assets they may read, cached under their readable set (at most
    :data:`MAX_CACHED` paths and sets between two writes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq: int | None = None
        self._values: dict[tuple[Any, ...], list[tuple[str, float]]] = {}

    def values(self, conn: Connection, path: tuple[str, ...],
               visible: BoundVisibility | None = None, *,
               seq: int | None = None) -> list[tuple[str, float]]:
        """``(value, count)`` of ``path``, in value order, as of the event ``seq`` (None:
        the newest, read here)."""
        if seq is None:
            seq = conn.scalar(sa.select(sa.func.max(events.c.seq))) or 0
        key = (path, None if visible is None else visible.key)
        with self._lock:
            if seq != self._seq:
                self._seq, self._values = seq, {}
            cached = self._values.get(key)
        if cached is None:
            cached = _read_recent(conn, path, visible)
            with self._lock:
                if len(self._values) >= MAX_CACHED:
                    self._values = {}
                if self._seq == seq:
                    self._values[key] = cached
        return cached


def _read_recent(conn: Connection, path: tuple[str, ...],
                 visible: BoundVisibility | None = None) -> list[tuple[str, float]]:
    newest = sa.select(assets.c.meta).order_by(assets.c.id.desc()).limit(RECENT)
    if visible is not None:
        newest = newest.where(visible.rule.assets(assets))
    recent = newest.subquery()
    value = json_functions(conn.dialect.name).text(recent.c.meta, path)
    stmt = (sa.select(value.label("v"), sa.func.count().label("n")).select_from(recent)
            .where(value.is_not(None)).group_by(value).order_by(value))
    params = {} if visible is None else dict(visible.params)
    return [(str(row.v), float(row.n)) for row in conn.execute(stmt, params)]


def _json_facets() -> list[tuple[str, ...]]:
    return [spec.path for spec in facet_config().facets.values()
            if spec.type == "json" and spec.path]


def _field_values(ctx: Context, head: str, rest: str) -> list[Ranked]:
    """Completions after ``field:``."""
    base = head.removesuffix("*")
    if base in GRAPH_PREDICATES or base == "ref":
        kind, colon, ref_rest = rest.partition(":")
        if colon and kind in SPECS:
            return _refs(ctx, kind, ref_rest, field=f"{head}:")
        return [(Suggestion(text=f"{head}:{k}:", kind="field"), 0.0)
                for k in SPECS if k.startswith(rest)]
    if head in SPECS:
        return _refs(ctx, head, rest)
    if head == "tag":
        return _tags(ctx, rest)
    if head == "namespace":
        return _namespaces(ctx, rest)
    if head == "name":
        return _names(ctx, rest, field="name:")
    if head in ("kind", "state"):
        options = SPECS if head == "kind" else {s for spec in SPECS.values() for s in spec.states}
        return _values(ctx, {f"{head}:{o}": 0.0 for o in sorted(options) if o.startswith(rest)})
    if head.startswith("meta.") and tuple(head[5:].split(".")) in _json_facets():
        return _json_values(ctx, tuple(head[5:].split(".")), rest)
    return _learned_values(ctx, f"{head}:{rest}")


def _learned_values(ctx: Context, prefix: str) -> list[Ranked]:
    params = {**_prefix_params(prefix), **ctx.decay}
    return [(Suggestion(text=row.term, kind="value", score=row.w), 0.0)
            for row in ctx.conn.execute(_learned_values_statement(), params)]


def last_token(q: str) -> str:
    """The token being typed: after the last space, without an opening ``(`` or ``-``."""
    if not q or q[-1].isspace():
        return ""
    return q.split()[-1].lstrip("(-")


def suggest(conn: Connection, q: str, *, limit: int, now: float, half_life_days: float,
            recent: RecentValues | None = None,
            visible: BoundVisibility | None = None) -> list[Suggestion]:
    """Completions of the last token of ``q``; ``recent`` keeps metadata values between
    calls (a caller that suggests often should hold one); ``visible`` limits them to what
    the caller may read (None: everything)."""
    ctx = Context(conn, now, half_life_days, recent or RecentValues(), visible, limit)
    token = last_token(q)
    head, colon, rest = token.partition(":")
    if colon:
        found = _field_values(ctx, head, rest)
    else:
        found = _fields(ctx, token)
        if token:
            found += _names(ctx, token) + _tags(ctx, token) + _namespaces(ctx, token)
            for path in _json_facets():
                found += _json_values(ctx, path, token)
    return rank(found, limit)


def rank(found: list[Ranked], limit: int) -> list[Suggestion]:
    """Usage, then popularity, then text; one suggestion per text (the best)."""
    ordered = sorted(found, key=lambda item: (-item[0].score, -item[1], item[0].text))
    seen: dict[str, Suggestion] = {}
    for suggestion, _ in ordered:
        seen.setdefault(suggestion.text, suggestion)
    return list(seen.values())[:limit]
