"""Webhook signatures: ``X-ModelAtlas-Signature: sha256=<hex>``, the HMAC-SHA256 of
``f"{timestamp}.{body}"`` under the webhook's secret, with ``X-ModelAtlas-Timestamp`` the
Unix time of sending. The timestamp is inside the MAC so a captured delivery cannot be
replayed later than the receiver's tolerance.

A receiver (any language) recomputes the MAC over the raw body bytes it received, compares
in constant time and refuses an old timestamp; in Python, :func:`verify_signature` does it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-ModelAtlas-Signature"
TIMESTAMP_HEADER = "X-ModelAtlas-Timestamp"
EVENT_HEADER = "X-ModelAtlas-Event"
DELIVERY_HEADER = "X-ModelAtlas-Delivery"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds: five minutes of clock skew and queueing


class SignatureInvalid(ValueError):
    """The delivery is not proven to come from the registry: refuse it (answer 400/401)."""


def new_secret() -> str:
    """A webhook secret: 32 random bytes, as the receiver is shown it once and uses it
    (the whole string, prefix included, is the HMAC key)."""
    return SECRET_PREFIX + secrets.token_hex(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-ModelAtlas-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str | int, body: bytes, signature: str, *,
                     tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> None:
    """Raise :class:`SignatureInvalid` unless ``signature`` (the header's value) is the
    registry's signature of ``body`` (the raw request bytes, before any JSON parsing) at
    ``timestamp`` (the ``X-ModelAtlas-Timestamp`` header), and the timestamp is within
    ``tolerance`` seconds of ``now`` (default: the clock)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureInvalid("the timestamp is not a Unix time") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise SignatureInvalid("the timestamp is outside the tolerance: a replay or a "
                               "wrong clock")
    expected = sign(secret, sent_at, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8",
                                                                                  "replace")):
        raise SignatureInvalid("the signature does not match the body and secret")
