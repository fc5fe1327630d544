"""``client.access``: who holds which role in a namespace, and its access rules."""

from __future__ import annotations

from collections.abc import Iterable

from modelatlas.client._transport import _Transport, _validated
from modelatlas.registry.access_types import (
    GrantIn,
    NamespacePolicyIn,
    NamespacePolicyOut,
    RoleGrant,
)
from modelatlas.registry.sensitive_types import SensitiveFields, SensitiveFieldsIn


class AccessAPI:
    """``client.access``: grants (namespace ``*`` is registry-wide) and policies. Managing
    them takes the admin role; the registry refuses others with ``Forbidden``."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def grant(self, namespace: str, principal_type: str, name: str, role: str) -> RoleGrant:
        """Give a user, group or token a role (replacing the one it held there)."""
        body = _validated(GrantIn, {"principal_type": principal_type, "principal_name": name,
                                    "role": role})
        return self._t.grant_role(namespace, body)

    def revoke(self, namespace: str, principal_type: str, name: str) -> RoleGrant:
        """Take the role away; answers the grant removed."""
        return self._t.revoke_role(namespace, principal_type, name)

    def grants(self, namespace: str) -> list[RoleGrant]:
        return self._t.list_grants(namespace)

    def sensitive_fields(self, namespace: str, kind: str) -> SensitiveFields:
        """The ``kind``'s fields the namespace keeps sealed (encrypted at rest, shown only
        to callers with ``sensitive.read``)."""
        return self._t.sensitive_fields(namespace, kind)

    def set_sensitive_fields(self, namespace: str, kind: str,
                             fields: Iterable[str]) -> SensitiveFields:
        """Replace that list (``metadata.<key>`` or ``custom.<key>``; empty clears it)."""
        body = _validated(SensitiveFieldsIn, {"fields": list(fields)})
        return self._t.set_sensitive_fields(namespace, kind, body)

    def policy(self, namespace: str) -> NamespacePolicyOut:
        return self._t.namespace_policy(namespace)

    def set_policy(self, namespace: str, *, protected_aliases: Iterable[str] = ("champion",),
                   contributors_read_promoted_only: bool = False) -> NamespacePolicyOut:
        """Replace the namespace's rules (what is not given takes its default)."""
        body = _validated(NamespacePolicyIn, {
            "protected_aliases": list(protected_aliases),
            "contributors_read_promoted_only": contributors_read_promoted_only})
        return self._t.set_namespace_policy(namespace, body)
