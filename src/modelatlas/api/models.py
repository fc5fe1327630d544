"""``/models/{namespace}/{name}/versions``: register a model version in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from modelatlas.api._deps import IdempotencyKey, PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.assets import location_of
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Asset, Page, Registration, VersionRegistration

router = APIRouter(route_class=StrictJSONRoute, tags=["models"], responses=PROBLEM_RESPONSES)

_PATH = "/models/{namespace}/{name}/versions"


@router.post(_PATH, status_code=201, response_model=Registration,
             summary="Register the next version of a model")
def register_version(
    namespace: str,
    name: str,
    registration: VersionRegistration,
    response: Response,
    registry: RegistryDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Registration:
    with located(path=("namespace", "name")):
        result = registry.register_version(
            namespace, name, registration, idempotency_key=idempotency_key,
            principal=principal,
        )
    response.headers["Location"] = location_of(result.model_version.ref)
    response.headers["ETag"] = result.model_version.etag
    return result


@router.get(_PATH, response_model=Page[Asset], summary="A model's versions")
def list_versions(
    namespace: str,
    name: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(50))],
    cursor: str | None = None,
) -> Page[Asset]:
    with located(path=("namespace", "name"), query=("cursor",)):
        return registry.list_versions(namespace, name, cursor=cursor, limit=limit,
                                      principal=principal)
