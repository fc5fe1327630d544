"""``/search`` routes: thin over the service layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import SearchResult

router = APIRouter(route_class=StrictJSONRoute, tags=["search"], responses=PROBLEM_RESPONSES)


def facet_names(facets: str | None) -> list[str] | None:
    """``kind,namespace`` -> ``["kind", "namespace"]``; absent -> the configured default;
    empty -> none."""
    if facets is None:
        return None
    return [name.strip() for name in facets.split(",") if name.strip()]


@router.get("/search", response_model=SearchResult, summary="Search with the query language")
def search(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(50))],
    q: Annotated[str, Query(description="a query (docs/query-language.md)")] = "",
    facets: Annotated[
        str | None, Query(max_length=1000, description="comma-separated facet names")
    ] = None,
    sort: Annotated[str, Query(max_length=200)] = "relevance",
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> SearchResult:
    with located(query=("q", "facets", "sort", "cursor")):
        return registry.search(q, facets=facet_names(facets), sort=sort, cursor=cursor,
                               limit=limit, principal=principal)
