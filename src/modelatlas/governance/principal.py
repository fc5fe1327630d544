"""The caller of a service operation, as established by a verified credential.

Identity comes only from a credential the server verified (an API token it issued, an
OIDC JWT signed by the configured provider) or, in the embedded single-user default, from
the local settings. Never from a request header a client can set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["local", "user", "token"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling.

    ``person`` is the human (or service account) behind the credential: two API tokens of
    one person carry the same ``person``, so separation of duties counts them once.
    ``actor`` is what events record.
    """

    kind: PrincipalKind
    person: str
    groups: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None
    # None: the credential is not narrowed; otherwise the scopes it was issued with.
    scopes: frozenset[str] | None = None

    @property
    def actor(self) -> str:
        return self.person

    @property
    def is_local(self) -> bool:
        """The embedded single-user default: no login, every right."""
        return self.kind == "local"

    @classmethod
    def local(cls, actor: str) -> Principal:
        return cls(kind="local", person=actor)
