"""The access decision: a pure function of who asks, for what, where, with which role, on
which target. No I/O: the service layer looks up the role and the namespace's policy and
passes them in, so the same decision is cheap to test exhaustively and to explain.

Rules compose in order (each may object; the first objection is the decision) and every
decision carries its reason, so a denial says what was missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from modelatlas.errors import FieldError, Forbidden
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import ActionSpec, Role, action, scope_allows

DEFAULT_PROTECTED_ALIASES = frozenset({"champion"})
PROMOTED_TAG = "promoted"
# What registering a version fixes for good: its artifact (digests) and core metadata.
# A correction is a new version or an amendment (``version.amend``), never an update.
IMMUTABLE_FIELDS = frozenset({"metadata", "digests"})
_VERSION_KINDS = frozenset({"model_version"})


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """A namespace's attribute rules (the defaults hold where none is stored)."""

    protected_aliases: frozenset[str] = DEFAULT_PROTECTED_ALIASES
    # viewers and contributors see only model versions tagged ``promoted``
    contributors_read_promoted_only: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """What the operation touches, as far as the rules care."""

    ref: str | None = None
    kind: str | None = None
    tags: frozenset[str] = frozenset()
    alias: str | None = None
    # the version is registered: its artifact and core metadata are immutable
    registered: bool = False
    # the fields an update changes
    fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    action: str
    namespace: str
    reason: str
    # the least role that would have allowed it (None: no role would, e.g. immutability)
    needed: Role | None = None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class Request:
    principal: Principal
    action: ActionSpec
    namespace: str
    role: Role | None
    target: Target = field(default_factory=Target)
    policy: NamespacePolicy = field(default_factory=NamespacePolicy)

    def deny(self, reason: str, needed: Role | None) -> Decision:
        return Decision(False, self.action.name, self.namespace, reason, needed, self.role)


class Rule(Protocol):
    """One rule: ``None`` when it has no objection, else the denial and why."""

    def __call__(self, request: Request, /) -> Decision | None: ...


def immutable_registered(request: Request) -> Decision | None:
    """Registered versions' artifact and core metadata never change, for anyone: this is
    the registry's integrity (approvals and attestations bind to the digest), not a right
    a role could hold, so it holds for the local user too."""
    target = request.target
    changed = target.fields & IMMUTABLE_FIELDS
    if request.action.name == "asset.update" and target.registered and changed:
        return request.deny(
            f"{', '.join(sorted(changed))} of a registered version cannot change: "
            "register a new version or record an amendment", None)
    return None


def token_scope(request: Request) -> Decision | None:
    needed = request.action.scope
    if scope_allows(request.principal.scopes, needed):
        return None
    return request.deny(f"the credential's scopes do not include {needed.value}",
                        request.action.role)


def needed_role(request: Request) -> Role:
    """The action's role, raised for a protected alias."""
    target, spec = request.target, request.action
    if spec.name == "alias.set" and target.alias in request.policy.protected_aliases:
        return action("alias.set_protected").role
    return spec.role


def role_suffices(request: Request) -> Decision | None:
    needed = needed_role(request)
    if request.role is not None and request.role.covers(needed):
        return None
    held = f"holds {request.role.value}" if request.role else "holds no role"
    protected = needed is not request.action.role
    what = f"alias {request.target.alias!r} is protected: " if protected else ""
    return request.deny(
        f"{what}{request.action.name} in {request.namespace} needs {needed.value}; "
        f"the caller {held}", needed)


def promoted_reads(request: Request) -> Decision | None:
    """Where the namespace says so, readers below maintainer see only promoted versions."""
    target = request.target
    if (request.action.name != "asset.read"
            or not request.policy.contributors_read_promoted_only
            or target.kind not in _VERSION_KINDS
            or PROMOTED_TAG in target.tags
            or (request.role is not None and request.role.covers(Role.MAINTAINER))):
        return None
    return request.deny(f"{request.namespace} shows versions not tagged {PROMOTED_TAG!r} "
                        "only to maintainers", Role.MAINTAINER)


# Checked after immutability and the local user: what narrows the credential, the role,
# then the namespace's attribute rules.
RULES: tuple[Rule, ...] = (token_scope, role_suffices, promoted_reads)


def decide(
    principal: Principal,
    action_name: str,
    namespace: str,
    *,
    role: Role | None,
    target: Target | None = None,
    policy: NamespacePolicy | None = None,
) -> Decision:
    """May ``principal``, holding ``role`` in ``namespace``, perform ``action_name`` on
    ``target``? Pure; the caller records and raises on a denial."""
    request = Request(principal, action(action_name), namespace, role,
                      target or Target(), policy or NamespacePolicy())
    denied = immutable_registered(request)
    if denied is not None:
        return denied
    if principal.is_local:
        return Decision(True, action_name, namespace, "the local user may do everything",
                        None, role)
    for rule in RULES:
        denied = rule(request)
        if denied is not None:
            return denied
    return Decision(True, action_name, namespace,
                    f"{role.value if role else 'no role'} in {namespace} suffices",
                    needed_role(request), role)


class AccessDenied(Forbidden):
    """A denial with its decision, so the service layer can record it as an event once the
    refused operation's transaction is gone (``recorded`` says whether that happened)."""

    def __init__(self, principal: Principal, decision: Decision, target: Target) -> None:
        super().__init__(
            f"{principal.actor} may not {decision.action} in {decision.namespace}: "
            f"{decision.reason}",
            errors=[FieldError("/action", decision.action)],
            action=decision.action,
            required_role=decision.needed.value if decision.needed else None,
        )
        self.principal = principal
        self.decision = decision
        self.target = target
        self.recorded = False
