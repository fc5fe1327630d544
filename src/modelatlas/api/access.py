"""``/namespaces/{namespace}/grants`` and ``/namespaces/{namespace}/policy``: who holds
which role in a namespace (``*``: registry-wide) and the namespace's access rules, thin
over the service layer (which checks ``grant.manage`` / ``policy.manage`` itself)."""

from __future__ import annotations

from fastapi import APIRouter, status

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.access_types import (
    GrantIn,
    NamespacePolicyIn,
    NamespacePolicyOut,
    PrincipalTypeName,
    RoleGrant,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["access"], responses=PROBLEM_RESPONSES)


_GRANTS = "/namespaces/{namespace}/grants"
_POLICY = "/namespaces/{namespace}/policy"


@router.get(_GRANTS, response_model=list[RoleGrant], summary="Who holds which role")
def list_grants(namespace: str, registry: RegistryDep, principal: PrincipalDep) -> list[RoleGrant]:
    with located(path=("namespace",)):
        return registry.list_grants(namespace, principal=principal)


@router.post(_GRANTS, response_model=RoleGrant, status_code=status.HTTP_201_CREATED,
             summary="Grant a role to a user, group or token (replaces the one it held)")
def grant_role(namespace: str, body: GrantIn, registry: RegistryDep,
               principal: PrincipalDep) -> RoleGrant:
    with located(path=("namespace",)):
        return registry.grant_role(namespace, body, principal=principal)


@router.delete(_GRANTS + "/{principal_type}/{name}", response_model=RoleGrant,
               summary="Revoke a principal's role; answers the grant removed")
def revoke_role(namespace: str, principal_type: PrincipalTypeName, name: str,
                registry: RegistryDep, principal: PrincipalDep) -> RoleGrant:
    with located(path=("namespace", "principal_type"), principal_name="path/name"):
        return registry.revoke_role(namespace, principal_type, name, principal=principal)


@router.get(_POLICY, response_model=NamespacePolicyOut,
            summary="The namespace's access rules (defaults when none was set)")
def get_policy(namespace: str, registry: RegistryDep,
               principal: PrincipalDep) -> NamespacePolicyOut:
    with located(path=("namespace",)):
        return registry.namespace_policy(namespace, principal=principal)


@router.put(_POLICY, response_model=NamespacePolicyOut,
            summary="Replace the namespace's access rules")
def set_policy(namespace: str, body: NamespacePolicyIn, registry: RegistryDep,
               principal: PrincipalDep) -> NamespacePolicyOut:
    with located(path=("namespace",)):
        return registry.set_namespace_policy(namespace, body, principal=principal)
