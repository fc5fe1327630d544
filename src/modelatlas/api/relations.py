"""``/relations``: add and remove typed edges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from modelatlas.api._deps import IdempotencyKey, PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Relation, RelationCreate

router = APIRouter(route_class=StrictJSONRoute, tags=["relations"], responses=PROBLEM_RESPONSES)

RefQuery = Annotated[str, Query(max_length=500, description="a ref")]


@router.post("/relations", status_code=201, response_model=Relation, summary="Add an edge")
def add_relation(
    spec: RelationCreate,
    registry: RegistryDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Relation:
    return registry.add_relation(spec, idempotency_key=idempotency_key, principal=principal)


@router.delete("/relations", status_code=204, response_class=Response, summary="Remove an edge")
def remove_relation(
    source: RefQuery,
    relation: Annotated[str, Query(max_length=64)],
    target: RefQuery,
    registry: RegistryDep,
    principal: PrincipalDep,
) -> Response:
    with located(query=("source", "relation", "target")):
        registry.remove_relation(source, relation, target, principal=principal)
    return Response(status_code=204)
