"""API tokens: the format, the stored hash, scopes and lifetimes. No storage here.

A token reads ``mat_<id>_<secret>``: ``id`` is 16 hex digits, public, the row's key (it is
shown in lists and events so a token can be named and revoked); ``secret`` is 32 random
bytes (``secrets.token_urlsafe``). The server keeps only SHA-256 of ``id:secret``: the
secret carries 256 bits of entropy, so a fast hash is enough (no password stretching or
pepper is needed to stop guessing, and a stolen table yields no usable token). The hash
binds the id, so a secret cannot be replayed under another token's id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelatlas.errors import FieldError, InvalidInput

PREFIX = "mat_"
SCOPES = ("read", "write", "admin")  # admin: manage other people's tokens and grants
DEFAULT_SCOPES = ("read", "write")
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365

_FORMAT = re.compile(r"mat_(?P<id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly minted token: ``presented`` is what the holder sends, shown once."""

    token_id: str
    presented: str
    secret_sha256: str


def mint() -> NewToken:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewToken(token_id, f"{PREFIX}{token_id}_{secret}", _digest(token_id, secret))


def looks_like_token(presented: str) -> bool:
    """Bearer values of this prefix are API tokens; anything else may be an OIDC JWT."""
    return presented.startswith(PREFIX)


def parse(presented: str) -> tuple[str, str] | None:
    """``(token_id, secret)``, or None for a value that is not a well-formed token."""
    match = _FORMAT.fullmatch(presented)
    return (match["id"], match["secret"]) if match else None


def secret_matches(token_id: str, secret: str, stored_sha256: str) -> bool:
    """Constant-time comparison: the time taken says nothing about how much matched."""
    return hmac.compare_digest(_digest(token_id, secret), stored_sha256)


def _digest(token_id: str, secret: str) -> str:
    return hashlib.sha256(f"{token_id}:{secret}".encode()).hexdigest()


def check_scopes(scopes: list[str] | tuple[str, ...] | None, *,
                 path: str = "/scopes") -> list[str]:
    """The scopes in vocabulary order, each known, none repeated; defaults when None."""
    if scopes is None:
        return list(DEFAULT_SCOPES)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInput(
            f"{path}: unknown scope {unknown[0]!r} (one of {', '.join(SCOPES)})",
            errors=[FieldError(path, f"one of {', '.join(SCOPES)}")])
    if not scopes:
        raise InvalidInput.at(path, "give at least one scope")
    return [s for s in SCOPES if s in scopes]


def expiry(now: datetime, days: int | None, *, path: str = "/expires_in_days") -> datetime:
    """When a token issued ``now`` expires: ``days`` from now (default 90, at most 365).
    No token lives forever: a leaked one stops working on its own."""
    lifetime = DEFAULT_LIFETIME_DAYS if days is None else days
    if not 1 <= lifetime <= MAX_LIFETIME_DAYS:
        raise InvalidInput.at(path, f"between 1 and {MAX_LIFETIME_DAYS} days")
    return now + timedelta(days=lifetime)


def parse_time(text: str) -> datetime:
    """A stored timestamp (``2026-11-26T17:44:20.000000Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
