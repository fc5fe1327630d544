"""``/deps``: dependency impact analysis and revalidation marks, thin over the service layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Page
from modelatlas.registry.impact_types import ImpactChange, ImpactReport, RevalidationMark

router = APIRouter(route_class=StrictJSONRoute, tags=["deps"], responses=PROBLEM_RESPONSES)


@router.post("/deps/impact", response_model=ImpactReport, summary="What a change would break")
def impact(change: ImpactChange, registry: RegistryDep,
           principal: PrincipalDep) -> ImpactReport:
    return registry.impact(change, principal=principal)


@router.get("/deps/revalidation", response_model=Page[RevalidationMark],
            summary="Deployed versions whose dependencies changed since they were validated")
def revalidation(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    ref: Annotated[str | None, Query(max_length=500, description="one asset's marks")] = None,
    cursor: str | None = None,
) -> Page[RevalidationMark]:
    with located(query=("ref", "cursor")):
        return registry.revalidation_marks(ref, cursor=cursor, limit=limit,
                                           principal=principal)
