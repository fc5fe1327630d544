"""API tokens of the calling person: create (the secret is answered once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, status

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.token_types import Token, TokenCreate, TokenCreated

router = APIRouter(route_class=StrictJSONRoute, tags=["authentication"],
                   responses=PROBLEM_RESPONSES)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED,
             summary="Create an API token acting as the caller (its secret is shown once)")
def create_token(body: TokenCreate, registry: RegistryDep,
                 principal: PrincipalDep) -> TokenCreated:
    return registry.create_token(body, principal=principal)


@router.get("/tokens", response_model=list[Token],
            summary="The caller's API tokens (never their secrets)")
def list_tokens(registry: RegistryDep, principal: PrincipalDep) -> list[Token]:
    return registry.tokens(principal=principal)


@router.delete("/tokens/{token_id}", response_model=Token,
               summary="Revoke one of the caller's API tokens")
def revoke_token(token_id: str, registry: RegistryDep, principal: PrincipalDep) -> Token:
    with located(path=("token_id",)):
        return registry.revoke_token(token_id, principal=principal)
