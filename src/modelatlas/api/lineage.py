"""``GET /lineage/{ref}``, ``/lineage-paths`` and ``/blast-radius/{ref}``: lineage
questions, thin over the service layer. (``POST /lineage``, OpenLineage ingestion, lives in
:mod:`modelatlas.api.openlineage`.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.errors import FieldError, ModelAtlasError
from modelatlas.registry import BlastRadius, LineageGraph, LineagePaths
from modelatlas.registry.lineage_types import DEFAULT_NODE_LIMIT, LineageNeighbours

router = APIRouter(route_class=StrictJSONRoute, tags=["lineage"], responses=PROBLEM_RESPONSES)

_LIST_PARAMS = {"/relations": "query/relation", "/kinds": "query/kind"}


def _words(values: list[str] | None) -> list[str]:
    """``?relation=used&relation=produced`` or ``?relation=used,produced``."""
    return [w.strip() for v in values or [] for w in v.split(",") if w.strip()]


@contextmanager
def _list_params() -> Iterator[None]:
    """``/relations/1`` (the service's name for the second relation) came from the
    ``relation`` query parameter."""
    try:
        yield
    except ModelAtlasError as exc:
        exc.errors = [FieldError(next((new for old, new in _LIST_PARAMS.items()
                                       if e.path == old or e.path.startswith(old + "/")),
                                      e.path), e.message) for e in exc.errors]
        raise


@router.get("/lineage/{ref:path}", response_model=LineageGraph,
            summary="Upstream and downstream of an asset, now or as of a past time")
def lineage_graph(
    ref: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    direction: Annotated[str, Query(max_length=16,
                                    description="upstream, downstream or both")] = "downstream",
    depth: Annotated[int, Query(description="most hops from the asset (1-20)")] = 3,
    relation: Annotated[list[str] | None, Query(
        max_length=20, description="follow only these relations (repeat or comma-separate)")
    ] = None,
    kind: Annotated[list[str] | None, Query(
        max_length=20, description="return only assets of these kinds")] = None,
    as_of: Annotated[str | None, Query(max_length=40,
                                       description="ISO-8601 time: the graph as it was")] = None,
    limit: Annotated[int, Query(description="most assets returned, root included")]
    = DEFAULT_NODE_LIMIT,
) -> LineageGraph:
    query: dict[str, Any] = {"direction": direction, "depth": depth, "limit": limit,
                             "relations": _words(relation), "kinds": _words(kind)}
    if as_of is not None:
        query["as_of"] = as_of
    with located(path=("ref",), query=("direction", "depth", "as_of", "limit")), _list_params():
        return registry.lineage(ref, query, principal=principal)


@router.get("/lineage-paths", response_model=LineagePaths,
            summary="The paths along which one asset influenced another")
def lineage_paths(
    registry: RegistryDep,
    principal: PrincipalDep,
    source: Annotated[str, Query(max_length=500, description="a ref")],
    target: Annotated[str, Query(max_length=500, description="a ref")],
    depth: Annotated[int, Query(description="most hops per path (1-20)")] = 6,
    limit: Annotated[int, Query(description="most paths (1-100)")] = 20,
) -> LineagePaths:
    with located(query=("source", "target", "depth", "limit")):
        return registry.lineage_paths(source, target, depth=depth, limit=limit,
                                      principal=principal)


@router.get("/blast-radius/{ref:path}", response_model=BlastRadius,
            summary="Everything downstream of an asset: counts per kind and the affected "
                    "model versions, evaluations and deployments")
def blast_radius(
    ref: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    depth: Annotated[int, Query(description="most hops (1-20)")] = 10,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> BlastRadius:
    with located(path=("ref",), query=("depth", "cursor", "limit")):
        return registry.blast_radius(ref, depth=depth, cursor=cursor, limit=limit,
                                     principal=principal)


@router.get("/lineage-neighbours/{ref:path}", response_model=LineageNeighbours,
            summary="One side of an asset's direct neighbours: counts per kind and a page")
def lineage_neighbours(
    ref: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(25))],
    direction: Annotated[str, Query(max_length=16,
                                    description="upstream or downstream")] = "downstream",
    kind: Annotated[str | None, Query(max_length=32,
                                      description="only neighbours of this kind")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> LineageNeighbours:
    with located(path=("ref",), query=("direction", "kind", "cursor", "limit")):
        return registry.lineage_neighbours(ref, direction=direction, kind=kind, cursor=cursor,
                                           limit=limit, principal=principal)
