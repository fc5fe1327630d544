"""``/relations``: add and remove typed edges."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from modelatlas.api._deps import IdempotencyKey, PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Relation, RelationCreate
from modelatlas.registry.alias_types import LineageChange

router = APIRouter(route_class=StrictJSONRoute, tags=["relations"], responses=PROBLEM_RESPONSES)

RefQuery = Annotated[str, Query(max_length=500, description="a ref")]


# A lineage edge of a model version in production is not changed at once: the answer is
# 202 with the change request a second maintainer approves (/lineage-changes).
_REQUESTED: dict[int | str, dict[str, Any]] = {202: {"model": LineageChange,
                    "description": "a change to a production version's lineage, requested"}}


@router.post("/relations", status_code=201, response_model=Relation | LineageChange,
             responses=_REQUESTED, summary="Add an edge")
def add_relation(
    spec: RelationCreate,
    response: Response,
    registry: RegistryDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Relation | LineageChange:
    added = registry.add_relation(spec, idempotency_key=idempotency_key, principal=principal)
    if isinstance(added, LineageChange):
        response.status_code = 202
    return added


@router.delete("/relations", status_code=204, response_class=Response, responses=_REQUESTED,
               summary="Remove an edge")
def remove_relation(
    source: RefQuery,
    relation: Annotated[str, Query(max_length=64)],
    target: RefQuery,
    registry: RegistryDep,
    principal: PrincipalDep,
) -> Response:
    with located(query=("source", "relation", "target")):
        requested = registry.remove_relation(source, relation, target, principal=principal)
    if requested is not None:
        return JSONResponse(requested.model_dump(mode="json"), status_code=202)
    return Response(status_code=204)
