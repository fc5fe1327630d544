"""Wire types of role grants, namespace access policies and access decisions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PrincipalTypeName = Literal["user", "group", "token"]
RoleName = Literal["viewer", "contributor", "maintainer", "admin"]
AliasName = str


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class GrantIn(_In):
    """Give a user, a group or an API token a role in the namespace (``*``: everywhere).
    Granting again replaces the principal's role there."""

    principal_type: PrincipalTypeName
    principal_name: str = Field(min_length=1, max_length=200,
                                description="the person, the group, or the token id")
    role: RoleName


class RoleGrant(BaseModel):
    namespace: str
    principal_type: PrincipalTypeName
    principal_name: str
    role: RoleName
    created_at: str
    created_by: str


class NamespacePolicyIn(_In):
    """A namespace's attribute rules, replaced whole."""

    protected_aliases: list[AliasName] = Field(
        default_factory=lambda: ["champion"], max_length=50,
        description="aliases only a maintainer may point (default: champion)")
    contributors_read_promoted_only: bool = Field(
        default=False,
        description="viewers and contributors see only model versions tagged promoted")


class NamespacePolicyOut(BaseModel):
    namespace: str
    protected_aliases: list[str]
    contributors_read_promoted_only: bool
    # None while the namespace has the defaults (nobody set a policy)
    updated_at: str | None = None
    updated_by: str | None = None


class AccessDecision(BaseModel):
    """Whether the caller may do ``action`` in ``namespace``, and why."""

    allowed: bool
    action: str
    namespace: str
    reason: str
    required_role: RoleName | None = None
    role: RoleName | None = None
