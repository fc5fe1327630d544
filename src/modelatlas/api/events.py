"""``/events``: the feed of committed changes, in sequence order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Event, Page

MAX_SEQ = 2**63 - 1  # sequence numbers are 64-bit in both databases

router = APIRouter(route_class=StrictJSONRoute, tags=["events"], responses=PROBLEM_RESPONSES)


@router.get("/events", response_model=Page[Event], summary="Events after a sequence number")
def events(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="the last sequence number seen")
    ] = 0,
) -> Page[Event]:
    with located(query=("after",)):
        return registry.events(after=after, limit=limit, principal=principal)
