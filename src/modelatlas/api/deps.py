"""``/deps``: dependency requirements, check, resolve and why, thin over the service layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import (
    CheckRequest,
    CheckResult,
    ModelRequirements,
    RequirementsIn,
    ResolutionOut,
    ResolveRequest,
    WhyRequest,
    WhyResult,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["deps"], responses=PROBLEM_RESPONSES)

_REQUIREMENTS = "/deps/requirements/{ref:path}"


@router.get(_REQUIREMENTS, response_model=ModelRequirements,
            summary="What a model version requires")
def get_requirements(ref: str, registry: RegistryDep,
                     principal: PrincipalDep) -> ModelRequirements:
    with located(path=("ref",)):
        return registry.requirements(ref, principal=principal)


@router.put(_REQUIREMENTS, response_model=ModelRequirements,
            summary="Replace what a model version requires")
def set_requirements(
    ref: str, body: RequirementsIn, registry: RegistryDep, principal: PrincipalDep
) -> ModelRequirements:
    with located(path=("ref",)):
        return registry.set_requirements(ref, body, principal=principal)


@router.post("/deps/check", response_model=CheckResult,
             summary="Is a model version compatible with an environment or deployment?")
def check(body: CheckRequest, registry: RegistryDep, principal: PrincipalDep) -> CheckResult:
    return registry.check(body.ref, body.target, environment=body.environment,
                          principal=principal)


@router.post("/deps/resolve", response_model=ResolutionOut,
             summary="One set of package versions for several model versions")
def resolve(body: ResolveRequest, registry: RegistryDep,
            principal: PrincipalDep) -> ResolutionOut:
    return registry.resolve(body, principal=principal)


@router.get("/deps/why", response_model=WhyResult,
            summary="Why a model version needs a package")
def why(
    registry: RegistryDep,
    principal: PrincipalDep,
    ref: Annotated[str, Query(max_length=500, description="a model_version ref")],
    package: Annotated[str, Query(min_length=1, max_length=300)],
    python: Annotated[str | None, Query(max_length=50)] = None,
    platform: Annotated[str, Query(max_length=50)] = "linux",
) -> WhyResult:
    with located(query=("ref", "package", "python", "platform")):
        request = WhyRequest(ref=ref, package=package, python=python, platform=platform)
        return registry.why(request, principal=principal)


@router.post("/deps/why", response_model=WhyResult,
             summary="Why a model version needs a package, with an index snapshot")
def why_with_index(body: WhyRequest, registry: RegistryDep,
                   principal: PrincipalDep) -> WhyResult:
    return registry.why(body, principal=principal)
