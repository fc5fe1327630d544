"""``/namespaces/{namespace}/sensitive-fields/{kind}``: which fields of a kind a namespace
keeps encrypted at rest and redacted for callers without ``sensitive.read``."""

from __future__ import annotations

from fastapi import APIRouter

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.sensitive_types import SensitiveFields, SensitiveFieldsIn

router = APIRouter(route_class=StrictJSONRoute, tags=["namespaces"], responses=PROBLEM_RESPONSES)

_PATH = "/namespaces/{namespace}/sensitive-fields/{kind}"


@router.put(_PATH, response_model=SensitiveFields, summary="Set a kind's sensitive fields")
def set_sensitive_fields(namespace: str, kind: str, body: SensitiveFieldsIn,
                         registry: RegistryDep, principal: PrincipalDep) -> SensitiveFields:
    with located(path=("namespace", "kind")):
        return registry.set_sensitive_fields(namespace, kind, body, principal=principal)


@router.get(_PATH, response_model=SensitiveFields, summary="Get a kind's sensitive fields")
def get_sensitive_fields(namespace: str, kind: str, registry: RegistryDep,
                         principal: PrincipalDep) -> SensitiveFields:
    with located(path=("namespace", "kind")):
        return registry.get_sensitive_fields(namespace, kind, principal=principal)
