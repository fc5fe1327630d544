"""The search page, which is also the front page: a query box with autocomplete, facet
counts that narrow the query, and one page of results with their key metrics and badges.

Everything on the page is a link or a GET form, so it works without JavaScript; htmx and
``static/search.js`` only add the suggestions list. The service notes each first-page
search (``Registry.search``), so searching here teaches autocomplete as the API does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response

from modelatlas.errors import ModelAtlasError
from modelatlas.governance import Principal
from modelatlas.registry import Asset, AssetBadges, Registry, SearchResult
from modelatlas.search.suggest import last_token
from modelatlas.web import session as _session
from modelatlas.web._render import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
SUGGESTIONS = 8
# facet name -> (its label, the query field a value of it narrows by)
FACETS: dict[str, tuple[str, str]] = {
    "kind": ("Kind", "kind"),
    "namespace": ("Team", "namespace"),
    "state": ("Stage", "state"),
    "tag": ("Tag", "tag"),
    "framework": ("Framework", "meta.framework"),
    "task": ("Task", "meta.task"),
    "owner": ("Owner", "owner"),
}
SORTS = (
    ("relevance", "Relevance"), ("-updated", "Recently updated"), ("-created", "Newest"),
    ("created", "Oldest"), ("name", "Name A to Z"), ("-name", "Name Z to A"),
    ("-metrics.auc", "Highest AUC"), ("metrics.latency_p95_ms", "Lowest p95 latency"),
)
# the metrics a row shows first, when the asset has them
KEY_METRICS = ("auc", "f1", "accuracy", "precision", "recall", "rmse", "ndcg_at_10",
               "latency_p95_ms")
STATE_TONE = {"production": "ok", "staging": "info", "deprecated": "warn", "failed": "bad",
              "withdrawn": "bad", "archived": "muted", "retired": "muted"}
_COLUMN = re.compile(r"column (\d+)")
_BARE = re.compile(r'^[^\s()"]+$')


@dataclass
class FacetLink:
    value: str
    count: int
    href: str | None  # None: a value the query language cannot name unquoted
    selected: bool


@dataclass
class FacetGroup:
    name: str
    label: str
    values: list[FacetLink]


@dataclass
class Row:
    asset: Asset
    href: str
    metrics: list[tuple[str, str]]
    badges: AssetBadges | None
    state_tone: str


@dataclass
class QueryError:
    """The service's refusal of the query, with the column it names marked."""

    detail: str
    before: str = ""
    at: str = ""
    after: str = ""


@dataclass
class View:
    q: str
    sort: str
    limit: int
    rows: list[Row] = field(default_factory=list)
    facets: list[FacetGroup] = field(default_factory=list)
    total: int | None = None
    next_href: str | None = None
    first_href: str | None = None
    unknown_tags: list[str] = field(default_factory=list)
    error: QueryError | None = None


@router.get("/")
def home(request: Request, principal: _session.PagePrincipal,
         registry: _session.PageRegistry, q: str = "", sort: str | None = None,
         cursor: str | None = None, limit: str | None = None) -> Response:
    """The front page: the search page (an empty query lists what changed lately)."""
    return _page(request, registry, principal, q, sort, cursor, limit)


@router.get("/search")
def search_page(request: Request, principal: _session.PagePrincipal,
                registry: _session.PageRegistry, q: str = "", sort: str | None = None,
                cursor: str | None = None, limit: str | None = None) -> Response:
    return _page(request, registry, principal, q, sort, cursor, limit)


@router.get("/search/suggest")
def suggest_fragment(request: Request, principal: _session.PagePrincipal,
                     registry: _session.PageRegistry, q: str = "") -> Response:
    """The suggestions list's options (htmx swaps them in): each completes the query."""
    try:
        found = registry.suggest(q, limit=SUGGESTIONS, principal=principal) if q.strip() \
            else []
    except ModelAtlasError:
        found = []  # a query the box cannot complete simply has no suggestions
    stem = q[:len(q) - len(last_token(q))]
    options = [{"text": s.text, "kind": s.kind, "query": stem + s.text} for s in found]
    return render(request, "_search_suggestions.html", {"options": options})


def _page(request: Request, registry: Registry, principal: Principal, q: str,
          sort: str | None, cursor: str | None, limit: str | None) -> Response:
    view = View(q=q, sort=sort or ("relevance" if q.strip() else "-updated"),
                limit=_limit(limit))
    try:
        result = registry.search(q, facets=list(FACETS), sort=view.sort, cursor=cursor,
                                 limit=view.limit, principal=principal)
    except ModelAtlasError as exc:
        if exc.status != 422:
            raise
        # shown inline with 200: a browser reports a 4xx page load as a console error
        view.error = _query_error(q, exc.detail)
    else:
        _fill(view, registry, principal, result, cursor)
    sorts = list(SORTS)
    if view.sort not in dict(sorts):
        sorts.append((view.sort, view.sort))  # a sort typed into the URL stays selected
    return render(request, "search.html", {"view": view, "sorts": sorts,
                                           "default_limit": DEFAULT_LIMIT})


def _limit(raw: str | None) -> int:
    """The page size asked for, within 1..MAX_LIMIT (a page never refuses a bad one)."""
    try:
        return min(max(int(raw or DEFAULT_LIMIT), 1), MAX_LIMIT)
    except ValueError:
        return DEFAULT_LIMIT


def _fill(view: View, registry: Registry, principal: Principal, result: SearchResult,
          cursor: str | None) -> None:
    badges = registry.badges([a.ref for a in result.items], principal=principal)
    view.rows = [_row(asset, badges.get(asset.ref)) for asset in result.items]
    view.facets = [_facet_group(view, name, result) for name in FACETS
                   if result.facets.get(name)]
    kinds = result.facets.get("kind")
    view.total = sum(v.count for v in kinds) if kinds is not None else None
    view.unknown_tags = result.unknown_tags
    if result.next_cursor:
        view.next_href = _href(view, view.q, cursor=result.next_cursor)
    if cursor:
        view.first_href = _href(view, view.q)


def _href(view: View, q: str, *, cursor: str | None = None) -> str:
    params: dict[str, str] = {"q": q}
    if view.sort != ("relevance" if q.strip() else "-updated"):
        params["sort"] = view.sort
    if view.limit != DEFAULT_LIMIT:
        params["limit"] = str(view.limit)
    if cursor:
        params["cursor"] = cursor
    return "/search?" + urlencode(params)


def _facet_group(view: View, name: str, result: SearchResult) -> FacetGroup:
    label, query_field = FACETS[name]
    tokens = view.q.split()
    values = []
    for counted in result.facets[name]:
        term = _term(query_field, counted.value)
        if term is None:
            values.append(FacetLink(counted.value, counted.count, None, False))
            continue
        selected = term in tokens
        narrowed = " ".join(t for t in tokens if t != term) if selected \
            else f"{view.q.strip()} {term}".strip()
        values.append(FacetLink(counted.value, counted.count, _href(view, narrowed), selected))
    return FacetGroup(name, label, values)


def _term(query_field: str, value: str) -> str | None:
    """``field:value``, the value quoted when it holds spaces or brackets; None when it
    holds a double quote (no link rather than a query that means something else)."""
    if _BARE.match(value):
        return f"{query_field}:{value}"
    if '"' in value or "\\" in value:
        return None
    return f'{query_field}:"{value}"'


def _row(asset: Asset, badges: AssetBadges | None) -> Row:
    return Row(asset=asset, href=asset_href(asset), metrics=_key_metrics(asset.metadata),
               badges=badges, state_tone=STATE_TONE.get(asset.state, "muted"))


def asset_href(asset: Asset) -> str:
    """The asset's page: models and their versions have their own, the rest one each."""
    ns, name = quote(asset.namespace, safe=""), quote(asset.name, safe="")
    if asset.kind == "model":
        return f"/models/{ns}/{name}"
    if asset.kind == "model_version" and asset.version:
        return f"/models/{ns}/{name}/versions/{quote(asset.version, safe='')}"
    return f"/assets/{quote(asset.ref, safe=':/@')}"


def _key_metrics(metadata: dict[str, Any], most: int = 3) -> list[tuple[str, str]]:
    """Up to ``most`` numeric metrics, the well-known ones first; a dataset's row count."""
    metrics = metadata.get("metrics")
    shown: list[tuple[str, str]] = []
    if isinstance(metrics, dict):
        numeric = {k: v for k, v in metrics.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        ordered = [k for k in KEY_METRICS if k in numeric] + sorted(
            k for k in numeric if k not in KEY_METRICS)
        shown = [(k, f"{numeric[k]:.4g}") for k in ordered[:most]]
    rows = metadata.get("row_count")
    if not shown and isinstance(rows, int) and not isinstance(rows, bool):
        shown = [("rows", f"{rows:,}")]
    return shown


def _query_error(q: str, detail: str) -> QueryError:
    """The message, and the query split around the column it names (1-based)."""
    found = _COLUMN.search(detail)
    if found is None:
        return QueryError(detail)
    at = min(max(int(found.group(1)) - 1, 0), len(q))
    return QueryError(detail, before=q[:at], at=q[at:at + 1] or " ", after=q[at + 1:])
