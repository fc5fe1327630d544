"""``/suggest``, ``/assets/{ref}/related`` and ``/usage``: discovery that learns from use.

The app includes this router before ``assets``: its ``{ref:path}`` routes would otherwise
take ``.../related`` as part of a ref.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import RelatedAsset, Suggestion, UsageSignal

router = APIRouter(route_class=StrictJSONRoute, tags=["search"], responses=PROBLEM_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=50, description="how many (at most 50)")]


@router.get("/suggest", response_model=list[Suggestion],
            summary="Complete the last token of a query")
def suggest(
    registry: RegistryDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(max_length=2000, description="the query typed so far")] = "",
    limit: Limit = 10,
) -> list[Suggestion]:
    with located(query=("q", "limit")):
        return registry.suggest(q, limit=limit, principal=principal)


@router.get("/assets/{ref:ref}/related", response_model=list[RelatedAsset],
            summary="Assets sharing datasets, features, tags or lineage")
def related(ref: str, registry: RegistryDep, principal: PrincipalDep,
            limit: Limit = 10) -> list[RelatedAsset]:
    with located(path=("ref",), query=("limit",)):
        return registry.related(ref, limit=limit, principal=principal)


@router.post("/usage", status_code=204, response_class=Response,
             summary="Report that an asset was opened, pulled or deployed")
def record_usage(signal: UsageSignal, registry: RegistryDep,
                 principal: PrincipalDep) -> Response:
    registry.record_usage(signal.signal, signal.ref, principal=principal)
    return Response(status_code=204)
