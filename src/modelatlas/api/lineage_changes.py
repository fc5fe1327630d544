"""``/lineage-changes``: requested changes to the lineage of model versions in production,
and their approval or rejection by a second maintainer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Page
from modelatlas.registry.alias_types import LineageChange, LineageDecision

router = APIRouter(route_class=StrictJSONRoute, tags=["lineage"], responses=PROBLEM_RESPONSES)


@router.get("/lineage-changes", response_model=Page[LineageChange],
            summary="Lineage change requests the caller may read, oldest first")
def list_changes(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(50))],
    namespace: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
) -> Page[LineageChange]:
    with located(query=("namespace", "status", "cursor")):
        return registry.lineage_changes(namespace=namespace, status=status, cursor=cursor,
                                        limit=limit, principal=principal)


@router.get("/lineage-changes/{change_id}", response_model=LineageChange,
            summary="One lineage change request")
def get_change(change_id: int, registry: RegistryDep,
               principal: PrincipalDep) -> LineageChange:
    with located(id="path/change_id"):
        return registry.lineage_change(change_id, principal=principal)


@router.post("/lineage-changes/{change_id}/approve", response_model=LineageChange,
             summary="Approve and apply a lineage change (a maintainer, not its requester)")
def approve_change(change_id: int, body: LineageDecision, registry: RegistryDep,
                   principal: PrincipalDep) -> LineageChange:
    with located(id="path/change_id"):
        return registry.approve_lineage_change(change_id, body, principal=principal)


@router.post("/lineage-changes/{change_id}/reject", response_model=LineageChange,
             summary="Reject a lineage change: the graph stays as it is")
def reject_change(change_id: int, body: LineageDecision, registry: RegistryDep,
                  principal: PrincipalDep) -> LineageChange:
    with located(id="path/change_id"):
        return registry.reject_lineage_change(change_id, body, principal=principal)
