"""The roles a namespace grants and the actions they allow, as data.

Roles are ordered: each includes every right of the roles below it. Every operation the
service layer guards names one action from :data:`ACTIONS`; the action carries the least
role that may perform it and the token scope it needs. Adding an operation is one line in
that table (and a test row comes with it: the matrix in tests/governance is built from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from modelatlas.errors import InvalidInput


class Role(StrEnum):
    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    MAINTAINER = "maintainer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def covers(self, needed: Role) -> bool:
        """Whether this role includes the rights of ``needed``."""
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, value: str, *, path: str = "/role") -> Role:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput.at(path, f"one of {', '.join(r.value for r in _ORDER)}") from None


_ORDER = (Role.VIEWER, Role.CONTRIBUTOR, Role.MAINTAINER, Role.ADMIN)
ROLES: tuple[Role, ...] = _ORDER


def highest(roles: list[Role]) -> Role | None:
    return max(roles, key=lambda r: r.rank) if roles else None


class Scope(StrEnum):
    """What an API token was issued for; each scope includes the ones before it. A token
    narrows its person's rights: a ``read`` token of a maintainer cannot write."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Scope).index(self)


_SCOPE_NAMES = frozenset(s.value for s in Scope)


def scope_allows(scopes: frozenset[str] | None, needed: Scope) -> bool:
    """``None`` is an unnarrowed credential; unknown scope names grant nothing (fail closed)."""
    if scopes is None:
        return True
    known = [Scope(s) for s in scopes if s in _SCOPE_NAMES]
    return any(s.rank >= needed.rank for s in known)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    role: Role
    scope: Scope
    description: str


_V, _C, _M, _A = Role.VIEWER, Role.CONTRIBUTOR, Role.MAINTAINER, Role.ADMIN
_R, _W, _AD = Scope.READ, Scope.WRITE, Scope.ADMIN

# name, least role, token scope, what it covers. Keep sorted by area.
_TABLE: tuple[tuple[str, Role, Scope, str], ...] = (
    ("asset.read", _V, _R, "read an asset, its history, relations, lineage and search hits"),
    ("asset.create", _C, _W, "create an asset"),
    ("asset.update", _C, _W, "change an asset's description, owners, tags, custom fields"),
    ("version.register", _C, _W, "register a model version (with its inputs)"),
    ("version.amend", _M, _W, "record an amendment to a registered version"),
    ("relation.add", _C, _W, "link two assets (the source's namespace decides)"),
    ("relation.remove", _M, _W, "remove a link"),
    ("alias.set", _C, _W, "point an alias that is not protected at a version"),
    ("alias.set_protected", _M, _W, "point a protected alias (e.g. champion) at a version"),
    ("lineage.approve", _M, _W, "approve or reject a change to a production version's lineage"),
    ("stage.change", _M, _W, "move a version through lifecycle stages"),
    ("approval.give", _M, _W, "approve a version"),
    ("review.comment", _C, _W, "comment on a version (reviews are read with asset.read)"),
    ("version.deprecate", _M, _W, "announce, revise or withdraw a version's deprecation"),
    ("dataset.withdraw", _M, _W, "withdraw a dataset version and flag what it fed"),
    ("schema.manage", _M, _W, "set the namespace's custom-field schemas"),
    ("sensitive.read", _M, _R, "see the plaintext of fields the namespace marks sensitive"),
    ("encryption.manage", _A, _AD, "rotate data encryption keys (registry-wide: granted on *)"),
    ("taxonomy.manage", _M, _W, "change the tag vocabulary (registry-wide: granted on *)"),
    ("attestation.add", _C, _W, "sign or upload an attestation"),
    ("key.manage", _A, _AD, "trust or revoke the namespace's signing keys"),
    ("webhook.manage", _A, _AD, "create, change or delete webhooks"),
    ("token.manage", _A, _AD, "issue or revoke service tokens for the namespace"),
    ("grant.read", _V, _R, "list who holds which role in the namespace"),
    ("grant.manage", _A, _AD, "grant and revoke roles"),
    ("policy.read", _V, _R, "read the namespace's access policy"),
    ("policy.manage", _A, _AD, "change the namespace's access policy"),
    ("audit.read", _M, _R, "read the namespace's events and denied attempts"),
    ("audit.cosign", _V, _W, "keep a witness's cosignature on a checkpoint (granted on *)"),
)

ACTIONS: dict[str, ActionSpec] = {
    name: ActionSpec(name, role, scope, description) for name, role, scope, description in _TABLE
}


def action(name: str) -> ActionSpec:
    """The action called ``name``; an unknown name is a programming error, not user input."""
    try:
        return ACTIONS[name]
    except KeyError:
        raise ValueError(f"unknown action {name!r}: add it to governance.roles") from None
