"""Role grants and namespace policies in the database: a caller's effective role, and what
they may read as a SQL predicate, so search, facets, suggestions and lineage filter in the
query rather than after it (nothing loads the registry to drop rows in Python).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.governance.policy import (
    PROMOTED_TAG,
    NamespacePolicy,
)
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import Role, Scope, highest, scope_allows
from modelatlas.store.tables import asset_tags, namespace_policies, role_grants

PrincipalType = Literal["user", "group", "token"]
PRINCIPAL_TYPES: tuple[PrincipalType, ...] = ("user", "group", "token")
EVERYWHERE = "*"  # the namespace of a registry-wide grant


def identities(principal: Principal) -> list[tuple[PrincipalType, str]]:
    """Every name a grant may address the caller by: the person (a token acts for its
    person), each of their groups, and the token itself."""
    found: list[tuple[PrincipalType, str]] = [("user", principal.person)]
    found += [("group", g) for g in sorted(principal.groups)]
    if principal.token_id:
        found.append(("token", principal.token_id))
    return found


def _grants_of(principal: Principal) -> ColumnElement[bool]:
    return sa.or_(*(
        sa.and_(role_grants.c.principal_type == kind, role_grants.c.principal_name == name)
        for kind, name in identities(principal)
    ))


def roles_by_namespace(conn: Connection, principal: Principal,
                       namespaces: Iterable[str] | None = None) -> dict[str, Role]:
    """The caller's highest role per namespace they hold one in (``*`` included); limited to
    ``namespaces`` when given. One indexed query."""
    query = sa.select(role_grants.c.namespace, role_grants.c.role).where(_grants_of(principal))
    if namespaces is not None:
        query = query.where(role_grants.c.namespace.in_(list(namespaces)))
    held: dict[str, list[Role]] = {}
    for namespace, role in conn.execute(query):
        held.setdefault(namespace, []).append(Role(role))
    return {ns: r for ns, roles in held.items() if (r := highest(roles)) is not None}


def effective_role(conn: Connection, principal: Principal, namespace: str) -> Role | None:
    """The highest of the caller's grants in ``namespace`` and registry-wide; the local
    user is admin everywhere."""
    if principal.is_local:
        return Role.ADMIN
    found = roles_by_namespace(conn, principal, {namespace, EVERYWHERE})
    return highest(list(found.values()))


def load_policy(conn: Connection, namespace: str) -> NamespacePolicy:
    row = conn.execute(sa.select(namespace_policies)
                       .where(namespace_policies.c.namespace == namespace)).first()
    return policy_from_row(row) if row is not None else NamespacePolicy()


def policy_from_row(row: Any) -> NamespacePolicy:
    return NamespacePolicy(
        protected_aliases=frozenset(row.protected_aliases),
        contributors_read_promoted_only=bool(row.contributors_read_promoted_only),
    )


@dataclass(frozen=True, slots=True)
class Readable:
    """What a caller may read. ``everything``: no filter (the local user, a registry-wide
    maintainer). Otherwise namespaces in ``full`` are wholly readable, and in ``promoted``
    everything but model versions not tagged ``promoted``; with ``everywhere`` set, every
    namespace not in ``promoted`` is wholly readable."""

    everything: bool = False
    everywhere: bool = False
    full: frozenset[str] = frozenset()
    promoted: frozenset[str] = frozenset()
    roles: dict[str, Role] = field(default_factory=dict)

    def wholly(self, namespace: str) -> bool:
        """Whether every asset of ``namespace`` is readable (figures over a whole team)."""
        if self.everything:
            return True
        return namespace not in self.promoted and (self.everywhere or namespace in self.full)

    def allows(self, namespace: str, kind: str, tags: Iterable[str]) -> bool:
        """The Python twin of :func:`readable_clause` (for one row already in hand)."""
        if self.everything:
            return True
        if namespace in self.promoted:
            return kind != "model_version" or PROMOTED_TAG in set(tags)
        return self.everywhere or namespace in self.full


def readable_for(conn: Connection, principal: Principal) -> Readable:
    """Two small queries: the caller's grants and the namespaces that restrict reads."""
    if principal.is_local:
        return Readable(everything=True)
    if not scope_allows(principal.scopes, Scope.READ):
        return Readable()
    roles = roles_by_namespace(conn, principal)
    wide = roles.get(EVERYWHERE)
    restricting = set(conn.execute(
        sa.select(namespace_policies.c.namespace)
        .where(namespace_policies.c.contributors_read_promoted_only.is_(True))).scalars())

    def below_maintainer(namespace: str) -> bool:
        role = highest([r for r in (roles.get(namespace), wide) if r is not None])
        return role is not None and not role.covers(Role.MAINTAINER)

    if wide is not None and wide.covers(Role.MAINTAINER):
        return Readable(everything=True, roles=roles)
    named = set(roles) - {EVERYWHERE}
    candidates = restricting if wide is not None else restricting & named
    promoted = frozenset(ns for ns in candidates if below_maintainer(ns))
    return Readable(everywhere=wide is not None, full=frozenset(named - promoted),
                    promoted=promoted, roles=roles)


def readable_clause(readable: Readable, table: sa.Table) -> ColumnElement[bool]:
    """A WHERE condition over ``table`` (``assets`` or an alias of it) keeping the rows the
    caller may read. Uses the namespace column and, for promoted-only namespaces, the
    indexed tag table."""
    if readable.everything:
        return sa.true()
    ns = table.c.namespace
    whole: ColumnElement[bool]
    if readable.everywhere:
        whole = ns.not_in(sorted(readable.promoted)) if readable.promoted else sa.true()
    else:
        whole = ns.in_(sorted(readable.full)) if readable.full else sa.false()
    if not readable.promoted:
        return whole
    promoted_ids = sa.select(asset_tags.c.asset_id).where(asset_tags.c.tag == PROMOTED_TAG)
    restricted = sa.and_(ns.in_(sorted(readable.promoted)),
                         sa.or_(table.c.kind != "model_version", table.c.id.in_(promoted_ids)))
    return sa.or_(whole, restricted)
