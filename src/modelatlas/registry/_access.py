"""The service layer's access control, mixed into :class:`Registry`: role grants, namespace
policies, and the check every operation makes.

Wiring an operation is one line before its transaction::

    self.authorize(principal, "asset.update", ref.namespace, ref=str(ref), fields=changed)

or, when the rule needs what only the transaction reads (the row's tags, whether the
version is registered), inside it, with the denial recorded once the transaction is gone::

    with self.denials_recorded(), self._write(actor) as tx:
        self.check_access(tx.conn, principal, "asset.read", ns, Target(...))

Every denial appends ``access.denied`` in a short write transaction of its own, so the
record survives the refused operation (and so sits in the audit log).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from modelatlas.errors import Conflict, FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.governance.grants import (
    EVERYWHERE,
    Readable,
    effective_role,
    load_policy,
    policy_from_row,
    readable_for,
)
from modelatlas.governance.policy import (
    AccessDenied,
    Decision,
    NamespacePolicy,
    Target,
    decide,
)
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import Role
from modelatlas.refs import check_namespace
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.access_types import (
    AccessDecision,
    GrantIn,
    NamespacePolicyIn,
    NamespacePolicyOut,
    RoleGrant,
)
from modelatlas.store.tables import namespace_policies, role_grants


def _grant_namespace(namespace: str) -> str:
    return namespace if namespace == EVERYWHERE else check_namespace(namespace)


def _parse(model: type[GrantIn] | type[NamespacePolicyIn], body: Mapping[str, Any]) -> Any:
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None


def _check_principal_name(name: str) -> None:
    if name != name.strip() or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidInput.at("/principal_name", "no surrounding spaces or control characters")


class AccessService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`: the access checks the other
    mixins use through :class:`ServiceBase`."""

    def _caller(self, principal: Principal | None) -> Principal:
        """``None`` is the embedded single user (the CLI and SDK in-process)."""
        return principal or Principal.local(self.settings.actor)

    # decisions ---------------------------------------------------------------------------
    def effective_role(self, principal: Principal | None, namespace: str) -> Role | None:
        """The caller's highest role in ``namespace``: their own grants, their groups',
        their token's, and the registry-wide ones."""
        with self.db.read() as conn:
            return effective_role(conn, self._caller(principal), namespace)

    def decide_access(self, conn: Connection, principal: Principal, action: str,
                      namespace: str, target: Target) -> Decision:
        """The decision, read on ``conn``; records nothing, raises nothing."""
        role = effective_role(conn, principal, namespace)
        policy = load_policy(conn, namespace) if not principal.is_local else None
        return decide(principal, action, namespace, role=role, target=target, policy=policy)

    def access_decision(self, principal: Principal | None, action: str, namespace: str,
                        **attributes: Any) -> AccessDecision:
        """Whether the caller may do ``action`` (for a UI deciding what to offer)."""
        caller = self._caller(principal)
        with self.db.read() as conn:
            decision = self.decide_access(conn, caller, action, namespace, Target(**attributes))
        return _decision_out(decision)

    def check_access(self, conn: Connection, principal: Principal | None, action: str,
                     namespace: str, target: Target | None = None) -> Decision:
        """Inside an operation's transaction: raise :class:`AccessDenied` (not yet recorded:
        wrap the transaction in :meth:`denials_recorded`)."""
        caller = self._caller(principal)
        decision = self.decide_access(conn, caller, action, namespace, target or Target())
        if not decision.allowed:
            raise AccessDenied(caller, decision, target or Target())
        return decision

    def authorize(self, principal: Principal | None, action: str, namespace: str,
                  **attributes: Any) -> Decision:
        """Allow ``action`` or record the denied attempt and raise ``Forbidden`` (403).
        ``attributes`` are :class:`Target` fields: ref, kind, tags, alias, registered,
        fields. Call it before the operation's write transaction."""
        caller, target = self._caller(principal), Target(**attributes)
        with self.denials_recorded():
            if caller.is_local:  # no grant to look up: the embedded default costs no query
                decision = decide(caller, action, namespace, role=Role.ADMIN, target=target)
                if not decision.allowed:
                    raise AccessDenied(caller, decision, target)
                return decision
            with self.db.read() as conn:
                return self.check_access(conn, caller, action, namespace, target)

    def authorize_read(self, principal: Principal | None, ref: str, namespace: str,
                       kind: str, tags: Iterable[str] = ()) -> None:
        """Reading one asset the caller may not read: recorded as a denied attempt, and
        answered exactly as for an asset that does not exist (404), so a refusal does not
        confirm that the asset is there."""
        if principal is None or principal.is_local:
            return
        try:
            self.authorize(principal, "asset.read", namespace, ref=ref, kind=kind,
                           tags=frozenset(tags))
        except AccessDenied:
            raise NotFound(f"{ref} does not exist",
                           errors=[FieldError("/ref", "no such asset")]) from None

    @staticmethod
    def acting(principal: Principal | None, actor: str | None) -> str | None:
        """Whom a write's events name: the authenticated caller when there is one, else the
        in-process caller's ``actor`` (``None``: the configured local actor)."""
        return principal.actor if principal is not None else actor

    @contextmanager
    def denials_recorded(self) -> Iterator[None]:
        """Record an :class:`AccessDenied` raised in the block, after the block's own
        transaction has rolled back (put this outside ``self._write``)."""
        try:
            yield
        except AccessDenied as denied:
            if not denied.recorded:
                self._record_denial(denied)
            raise

    def _record_denial(self, denied: AccessDenied) -> None:
        decision, principal = denied.decision, denied.principal
        payload: dict[str, Any] = {
            "action": decision.action, "namespace": decision.namespace,
            "reason": decision.reason,
            "required_role": decision.needed.value if decision.needed else None,
            "principal_kind": principal.kind,
        }
        if principal.token_id:
            payload["token_id"] = principal.token_id
        ref = denied.target.ref or f"namespace:{decision.namespace}"
        with self._write(principal.actor) as tx:
            tx.emit(Action.ACCESS_DENIED, ref, payload, None)
        denied.recorded = True

    def readable(self, principal: Principal | None) -> Readable:
        """What the caller may read; :func:`modelatlas.governance.grants.readable_clause`
        turns it into the WHERE condition search, facets and lineage add."""
        with self.db.read() as conn:
            return readable_for(conn, self._caller(principal))

    # grants ------------------------------------------------------------------------------
    def grant_role(self, namespace: str, body: GrantIn | Mapping[str, Any], *,
                   principal: Principal | None = None) -> RoleGrant:
        """Give a principal a role in ``namespace`` (``*``: everywhere); replaces the role
        it held there. Needs ``grant.manage`` (admin)."""
        namespace = _grant_namespace(namespace)
        spec: GrantIn = body if isinstance(body, GrantIn) else _parse(GrantIn, body)
        _check_principal_name(spec.principal_name)
        caller = self._caller(principal)
        self.authorize(caller, "grant.manage", namespace)
        try:
            with self._write(caller.actor) as tx:
                return _upsert_grant(tx, namespace, spec)
        except IntegrityError:
            raise Conflict("a concurrent request granted the same principal; retry") from None

    def revoke_role(self, namespace: str, principal_type: str, principal_name: str, *,
                    principal: Principal | None = None) -> RoleGrant:
        """Take a principal's role in ``namespace`` away; returns what it was."""
        namespace = _grant_namespace(namespace)
        caller = self._caller(principal)
        self.authorize(caller, "grant.manage", namespace)
        where = ((role_grants.c.namespace == namespace)
                 & (role_grants.c.principal_type == principal_type)
                 & (role_grants.c.principal_name == principal_name))
        with self._write(caller.actor) as tx:
            row = tx.conn.execute(sa.select(role_grants).where(where)).first()
            if row is None:
                raise NotFound(f"{principal_type} {principal_name} holds no role in {namespace}",
                               errors=[FieldError("/principal_name", "no grant")])
            tx.conn.execute(role_grants.delete().where(where))
            tx.emit(Action.ROLE_REVOKED, f"namespace:{namespace}",
                    {"principal_type": principal_type, "principal_name": principal_name,
                     "role": row.role}, None)
            return _grant_out(row)

    def list_grants(self, namespace: str, *,
                    principal: Principal | None = None) -> list[RoleGrant]:
        namespace = _grant_namespace(namespace)
        self.authorize(principal, "grant.read", namespace)
        with self.db.read() as conn:
            rows = conn.execute(sa.select(role_grants)
                                .where(role_grants.c.namespace == namespace)
                                .order_by(role_grants.c.principal_type,
                                          role_grants.c.principal_name)).all()
        return [_grant_out(r) for r in rows]

    # policies ----------------------------------------------------------------------------
    def namespace_policy(self, namespace: str, *,
                         principal: Principal | None = None) -> NamespacePolicyOut:
        check_namespace(namespace)
        self.authorize(principal, "policy.read", namespace)
        with self.db.read() as conn:
            row = conn.execute(sa.select(namespace_policies)
                               .where(namespace_policies.c.namespace == namespace)).first()
        return _policy_out(namespace, row)

    def set_namespace_policy(self, namespace: str, body: NamespacePolicyIn | Mapping[str, Any],
                             *, principal: Principal | None = None) -> NamespacePolicyOut:
        """Replace the namespace's attribute rules. Needs ``policy.manage`` (admin)."""
        check_namespace(namespace)
        spec: NamespacePolicyIn = (body if isinstance(body, NamespacePolicyIn)
                                   else _parse(NamespacePolicyIn, body))
        aliases = _clean_aliases(spec.protected_aliases)
        caller = self._caller(principal)
        self.authorize(caller, "policy.manage", namespace)
        with self._write(caller.actor) as tx:
            values = {"protected_aliases": aliases,
                      "contributors_read_promoted_only": spec.contributors_read_promoted_only,
                      "updated_at": tx.now, "updated_by": tx.actor}
            where = namespace_policies.c.namespace == namespace
            if tx.conn.execute(namespace_policies.update().where(where)
                               .values(values)).rowcount == 0:
                tx.conn.execute(namespace_policies.insert().values(namespace=namespace,
                                                                   **values))
            tx.emit(Action.NAMESPACE_POLICY_CHANGED, f"namespace:{namespace}",
                    {"protected_aliases": aliases,
                     "contributors_read_promoted_only": spec.contributors_read_promoted_only},
                    None)
            row = tx.conn.execute(sa.select(namespace_policies).where(where)).one()
            return _policy_out(namespace, row)


def _upsert_grant(tx: WriteTx, namespace: str, spec: GrantIn) -> RoleGrant:
    where = ((role_grants.c.namespace == namespace)
             & (role_grants.c.principal_type == spec.principal_type)
             & (role_grants.c.principal_name == spec.principal_name))
    row = tx.conn.execute(sa.select(role_grants).where(where).with_for_update()).first()
    if row is not None and row.role == spec.role:
        return _grant_out(row)  # already so: nothing changes, no event
    values = {"role": spec.role, "created_at": tx.now, "created_by": tx.actor}
    if row is None:
        tx.conn.execute(role_grants.insert().values(
            namespace=namespace, principal_type=spec.principal_type,
            principal_name=spec.principal_name, **values))
    else:
        tx.conn.execute(role_grants.update().where(where).values(values))
    payload: dict[str, Any] = {"principal_type": spec.principal_type,
                               "principal_name": spec.principal_name, "role": spec.role}
    if row is not None:
        payload["previous_role"] = row.role
    tx.emit(Action.ROLE_GRANTED, f"namespace:{namespace}", payload, None)
    return RoleGrant(namespace=namespace, principal_type=spec.principal_type,
                     principal_name=spec.principal_name, **values)


def _clean_aliases(aliases: list[str]) -> list[str]:
    for i, alias in enumerate(aliases):
        if not alias or alias != alias.strip() or len(alias) > 100:
            raise InvalidInput.at(f"/protected_aliases/{i}",
                                  "1-100 characters, no surrounding spaces")
    return sorted(set(aliases))


def _grant_out(row: Any) -> RoleGrant:
    return RoleGrant(namespace=row.namespace, principal_type=row.principal_type,
                     principal_name=row.principal_name, role=row.role,
                     created_at=row.created_at, created_by=row.created_by)


def _policy_out(namespace: str, row: Any) -> NamespacePolicyOut:
    if row is None:
        defaults = NamespacePolicy()
        return NamespacePolicyOut(
            namespace=namespace, protected_aliases=sorted(defaults.protected_aliases),
            contributors_read_promoted_only=defaults.contributors_read_promoted_only)
    policy = policy_from_row(row)
    return NamespacePolicyOut(
        namespace=namespace, protected_aliases=sorted(row.protected_aliases),
        contributors_read_promoted_only=policy.contributors_read_promoted_only,
        updated_at=row.updated_at, updated_by=row.updated_by)


def _decision_out(decision: Decision) -> AccessDecision:
    return AccessDecision(
        allowed=decision.allowed, action=decision.action, namespace=decision.namespace,
        reason=decision.reason,
        required_role=decision.needed.value if decision.needed else None,
        role=decision.role.value if decision.role else None)
