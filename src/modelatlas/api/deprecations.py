"""``/deprecations/{ref}`` (announce or revise, read, withdraw a model version's
deprecation plan) and ``/reports/deprecated-deployments``, thin over the service layer;
and :func:`deprecation_headers`, which every route answering about one model version calls
so its response carries ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and, with a
replacement, ``Link: <...>; rel="successor-version"`` (RFC 5829)."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from modelatlas.api._deps import API_PREFIX, PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.client import quote_ref
from modelatlas.registry import Asset, Page, Registry
from modelatlas.registry.deprecation_types import (
    DeprecatedDeployment,
    Deprecation,
    DeprecationPlan,
    parse_time,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["deprecation"],
                   responses=PROBLEM_RESPONSES)


def headers_of(plan: Deprecation) -> dict[str, str]:
    """The response headers announcing ``plan``: ``Deprecation: @<epoch seconds>`` of the
    first announcement, ``Sunset`` as an IMF-fixdate, the successor as a link."""
    headers = {
        "Deprecation": f"@{int(parse_time(plan.announced_at).timestamp())}",
        "Sunset": format_datetime(parse_time(plan.sunset), usegmt=True),
    }
    if plan.replacement is not None:
        headers["Link"] = (f'<{API_PREFIX}/assets/{quote_ref(plan.replacement)}>; '
                           'rel="successor-version"')
    return headers


def deprecation_headers(registry: Registry, asset: Asset, response: Response) -> None:
    """Add the deprecation headers when ``asset`` (already read by the caller) is a
    deprecated model version; anything else costs no query."""
    if asset.kind != "model_version":
        return
    plan = registry.deprecation_notice(asset.ref)
    if plan is not None:
        response.headers.update(headers_of(plan))


@router.post("/deprecations/{ref:ref}", response_model=Deprecation,
             summary="Announce (or revise) a model version's deprecation and notify its "
                     "consumers")
def deprecate(ref: str, body: DeprecationPlan, registry: RegistryDep,
              principal: PrincipalDep) -> Deprecation:
    with located(path=("ref",)):
        return registry.deprecate(ref, body, principal=principal)


@router.get("/deprecations/{ref:ref}", response_model=Deprecation,
            summary="A model version's deprecation plan (404 when it has none)")
def deprecation(ref: str, registry: RegistryDep, principal: PrincipalDep) -> Deprecation:
    with located(path=("ref",)):
        return registry.deprecation(ref, principal=principal)


@router.delete("/deprecations/{ref:ref}", response_model=Deprecation,
               summary="Withdraw a model version's deprecation plan; answers the plan")
def withdraw_deprecation(ref: str, registry: RegistryDep,
                         principal: PrincipalDep) -> Deprecation:
    with located(path=("ref",)):
        return registry.withdraw_deprecation(ref, principal=principal)


@router.get("/reports/deprecated-deployments", response_model=Page[DeprecatedDeployment],
            summary="Deployments still serving deprecated model versions, earliest sunset "
                    "first")
def deprecated_deployments(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    cursor: str | None = None,
) -> Page[DeprecatedDeployment]:
    with located(query=("cursor",)):
        return registry.deprecated_deployments(cursor=cursor, limit=limit,
                                               principal=principal)
