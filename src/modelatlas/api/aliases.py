"""``/models/{namespace}/{name}/aliases``: named pointers (champion, challenger) to a model's
versions."""

from __future__ import annotations

from fastapi import APIRouter, Response

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import Asset, Page
from modelatlas.registry.alias_types import Alias, AliasSet

router = APIRouter(route_class=StrictJSONRoute, tags=["models"], responses=PROBLEM_RESPONSES)

_PATH = "/models/{namespace}/{name}/aliases"
_WHERE = ("namespace", "name", "alias")


@router.put(_PATH + "/{alias}", response_model=Alias,
            summary="Point an alias at a version of the model (champion needs a maintainer)")
def set_alias(namespace: str, name: str, alias: str, body: AliasSet, registry: RegistryDep,
              principal: PrincipalDep) -> Alias:
    with located(path=_WHERE):
        return registry.set_alias(namespace, name, alias, body, principal=principal)


@router.get(_PATH + "/{alias}", response_model=Asset,
            summary="The version an alias points at")
def get_alias(namespace: str, name: str, alias: str, registry: RegistryDep,
              principal: PrincipalDep) -> Asset:
    with located(path=_WHERE):
        return registry.get_alias(namespace, name, alias, principal=principal)


@router.get(_PATH, response_model=Page[Alias], summary="A model's aliases")
def list_aliases(namespace: str, name: str, registry: RegistryDep,
                 principal: PrincipalDep) -> Page[Alias]:
    with located(path=("namespace", "name")):
        return registry.aliases(namespace, name, principal=principal)


@router.delete(_PATH + "/{alias}", status_code=204, response_class=Response,
               summary="Remove an alias (the same right as setting it)")
def remove_alias(namespace: str, name: str, alias: str, registry: RegistryDep,
                 principal: PrincipalDep) -> Response:
    with located(path=_WHERE):
        registry.remove_alias(namespace, name, alias, principal=principal)
    return Response(status_code=204)
