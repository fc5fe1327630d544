"""``/namespaces/{namespace}/schemas/{kind}``: JSON Schemas for a namespace's custom
fields."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry import NamespaceSchema

router = APIRouter(route_class=StrictJSONRoute, tags=["namespaces"], responses=PROBLEM_RESPONSES)

_PATH = "/namespaces/{namespace}/schemas/{kind}"


class SchemaPut(BaseModel):
    """The JSON Schema (draft 2020-12) the ``custom`` fields of this kind must fit."""

    model_config = ConfigDict(extra="forbid")

    json_schema: dict[str, Any]


@router.put(_PATH, response_model=NamespaceSchema, summary="Set a custom-field schema")
def set_schema(
    namespace: str, kind: str, body: SchemaPut, registry: RegistryDep, principal: PrincipalDep
) -> NamespaceSchema:
    with located(path=("namespace", "kind")):
        return registry.set_namespace_schema(namespace, kind, body.json_schema,
                                             principal=principal)


@router.get(_PATH, response_model=NamespaceSchema, summary="Get a custom-field schema")
def get_schema(
    namespace: str, kind: str, registry: RegistryDep, principal: PrincipalDep
) -> NamespaceSchema:
    with located(path=("namespace", "kind")):
        return registry.get_namespace_schema(namespace, kind, principal=principal)
