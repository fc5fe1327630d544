"""``/assets``: create, read, update (optimistic concurrency), list, history, edges."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Response

from modelatlas.api._deps import (
    API_PREFIX,
    IdempotencyKey,
    PrincipalDep,
    RegistryDep,
    located,
    page_limit,
)
from modelatlas.api.deprecations import deprecation_headers
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.client import quote_ref
from modelatlas.errors import FieldError, InvalidInput, PreconditionFailed, PreconditionRequired
from modelatlas.registry import Asset, AssetCreate, AssetUpdate, Event, Page, Relation

router = APIRouter(route_class=StrictJSONRoute, tags=["assets"], responses=PROBLEM_RESPONSES)

_STRONG_ETAG = re.compile(r'^"(\d{1,18})"$')
IF_MATCH = "header/if-match"


def location_of(ref: str) -> str:
    return f"{API_PREFIX}/assets/{quote_ref(ref)}"


def revision_from(if_match: str | None) -> int:
    """The revision an If-Match names. Required: an update without it could silently
    overwrite a change the caller never saw."""
    if if_match is None or if_match.strip() == "*":
        raise PreconditionRequired(
            "PATCH needs If-Match with the asset's ETag (GET it first)",
            errors=[FieldError(IF_MATCH, "required: the asset's ETag, e.g. \"3\"")],
        )
    value = if_match.strip()
    match = _STRONG_ETAG.match(value)
    if match:
        return int(match.group(1))
    if value.startswith('W/"'):
        raise PreconditionFailed(
            "a weak ETag never matches for an update; send the strong ETag",
            errors=[FieldError(IF_MATCH, "weak ETag")],
        )
    raise InvalidInput.at(IF_MATCH, 'one strong ETag, e.g. "3"')


@router.post("/assets", status_code=201, response_model=Asset, summary="Create an asset")
def create_asset(
    spec: AssetCreate,
    response: Response,
    registry: RegistryDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Asset:
    asset = registry.create_asset(spec, idempotency_key=idempotency_key, principal=principal)
    response.headers["Location"] = location_of(asset.ref)
    response.headers["ETag"] = asset.etag
    return asset


@router.get("/assets", response_model=Page[Asset], summary="List assets")
def list_assets(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(50))],
    kind: str | None = None,
    namespace: str | None = None,
    tag: str | None = None,
    cursor: str | None = None,
) -> Page[Asset]:
    with located(query=("kind", "namespace", "tag", "cursor")):
        return registry.list_assets(
            kind=kind, namespace=namespace, tag=tag, cursor=cursor, limit=limit,
            principal=principal,
        )


# The two sub-resources come before the plain ``{ref:path}`` routes, which would
# otherwise take ``.../history`` as part of the ref.
@router.get("/assets/{ref:ref}/history", response_model=Page[Event], summary="An asset's events")
def asset_history(
    ref: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    cursor: str | None = None,
) -> Page[Event]:
    with located(path=("ref",), query=("cursor",)):
        return registry.history(ref, cursor=cursor, limit=limit, principal=principal)


@router.get(
    "/assets/{ref:ref}/relations", response_model=Page[Relation], summary="An asset's edges"
)
def asset_relations(
    ref: str,
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    direction: Literal["out", "in", "both"] = "both",
    relation: Annotated[str | None, Query(max_length=64)] = None,
    cursor: str | None = None,
) -> Page[Relation]:
    with located(path=("ref",), query=("cursor", "direction")):
        return registry.relations(
            ref, direction=direction, relation=relation, cursor=cursor, limit=limit,
            principal=principal,
        )


@router.get("/assets/{ref:path}", response_model=Asset, summary="Get an asset")
def get_asset(
    ref: str, response: Response, registry: RegistryDep, principal: PrincipalDep,
    background: BackgroundTasks,
) -> Asset:
    with located(path=("ref",)):
        asset = registry.get_asset(ref, principal=principal)
    # learned ranking: counted after the answer is sent, so a read never waits on a write
    background.add_task(registry.note_usage, "opened", [asset.ref])
    response.headers["ETag"] = asset.etag
    deprecation_headers(registry, asset, response)  # Deprecation, Sunset, successor Link
    return asset


@router.patch("/assets/{ref:path}", response_model=Asset, summary="Update an asset")
def update_asset(
    ref: str,
    patch: AssetUpdate,
    response: Response,
    registry: RegistryDep,
    principal: PrincipalDep,
    if_match: Annotated[
        str | None, Header(description="the asset's current ETag (required)")
    ] = None,
) -> Asset:
    revision = revision_from(if_match)
    with located(path=("ref",), revision=IF_MATCH):
        asset = registry.update_asset(ref, patch, expected_revision=revision,
                                      principal=principal)
    response.headers["ETag"] = asset.etag
    return asset
