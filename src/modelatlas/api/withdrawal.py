"""``POST /datasets/{ref}/withdraw`` and ``GET /datasets/{ref}/withdrawal``: withdrawing a
dataset version and what it marked, thin over the service layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Withdrawal, WithdrawalRequest

router = APIRouter(route_class=StrictJSONRoute, tags=["lineage"], responses=PROBLEM_RESPONSES)


@router.post("/datasets/{ref:path}/withdraw", response_model=Withdrawal,
             summary="Withdraw a dataset version and mark what depends on it")
def withdraw(
    ref: str, body: WithdrawalRequest, registry: RegistryDep, principal: PrincipalDep
) -> Withdrawal:
    with located(path=("ref",)):
        return registry.withdraw(ref, reason=body.reason, category=body.category,
                                 depth=body.depth, principal=principal)


@router.get("/datasets/{ref:path}/withdrawal", response_model=Withdrawal,
            summary="How a dataset version was withdrawn, and a page of what it marked")
def withdrawal(
    ref: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    cursor: str | None = None,
) -> Withdrawal:
    with located(path=("ref",), query=("cursor", "limit")):
        return registry.withdrawal(ref, cursor=cursor, limit=limit, principal=principal)
