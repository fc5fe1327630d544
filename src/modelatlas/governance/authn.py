"""Authentication settings, checked at start-up, and the limiter of failed attempts.

``check_settings`` fails closed: a configuration that cannot authenticate anyone safely
(an issuer without an audience, an algorithm outside the asymmetric allow-list, a
trusted proxy that is not an address) stops the server with a one-line reason rather
than starting half-protected.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from modelatlas.errors import FieldError, InvalidInput
from modelatlas.governance.oidc import ASYMMETRIC_ALGORITHMS, OidcConfig

if TYPE_CHECKING:
    from modelatlas.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def oidc_config(settings: Settings) -> OidcConfig | None:
    """The OIDC provider settings name, or None when OIDC is not configured."""
    check_settings(settings)
    if not settings.oidc_issuer:
        return None
    assert settings.oidc_audience is not None  # check_settings guarantees it
    return OidcConfig(
        issuer=settings.oidc_issuer, audience=settings.oidc_audience,
        algorithms=tuple(_split(settings.oidc_algorithms)), jwks_url=settings.oidc_jwks_url,
        groups_claim=settings.oidc_groups_claim, username_claim=settings.oidc_username_claim,
        leeway_seconds=settings.oidc_leeway_seconds,
    )


def trusted_networks(settings: Settings) -> tuple[Network, ...]:
    check_settings(settings)
    return tuple(ipaddress.ip_network(p, strict=False) for p in _split(settings.trusted_proxies))


def check_settings(settings: Settings) -> None:
    """Raise :class:`InvalidInput` naming the first broken authentication setting."""
    problems = _problems(settings)
    if problems:
        where, message = problems[0]
        raise InvalidInput(f"authentication is misconfigured: {where}: {message}",
                           errors=[FieldError(w, m) for w, m in problems])


def _problems(settings: Settings) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    oidc_set = [settings.oidc_audience, settings.oidc_jwks_url]
    if settings.oidc_issuer:
        if not settings.oidc_issuer.startswith(("https://", "http://")):
            found.append(("MODELATLAS_OIDC_ISSUER", "must be an http(s) URL"))
        if not settings.oidc_audience:
            found.append(("MODELATLAS_OIDC_AUDIENCE",
                          "required with MODELATLAS_OIDC_ISSUER (else any token the "
                          "provider issues, for any application, would be accepted)"))
    elif any(oidc_set):
        found.append(("MODELATLAS_OIDC_ISSUER", "required when other MODELATLAS_OIDC_* "
                                                "settings are set"))
    algorithms = _split(settings.oidc_algorithms)
    bad = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
    if bad or not algorithms:
        found.append(("MODELATLAS_OIDC_ALGORITHMS",
                      f"{', '.join(bad) or 'empty'}: only asymmetric algorithms "
                      f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))})"))
    for proxy in _split(settings.trusted_proxies):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            found.append(("MODELATLAS_TRUSTED_PROXIES", f"{proxy!r} is not an address or "
                                                        "network"))
    return found


def is_trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


class FailureLimiter:
    """Counts failed authentications per client address in a sliding minute; past the
    limit the caller is refused before its credential is even looked at, so an attacker
    can neither guess at speed nor flood the event log with ``auth.failed``.

    In-process on purpose: it only makes a server refuse sooner and holds nothing another
    process needs (behind N servers an attacker gets N times the budget, still bounded).
    Memory is bounded: the least recently seen addresses are forgotten first.
    """

    def __init__(self, per_minute: int, *, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, list[float]] = OrderedDict()

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.per_minute

    def failed(self, client: str) -> int:
        """Record one failure; return how many ``client`` has had in the last minute."""
        with self._lock:
            recent = self._recent(client, time.monotonic())
            recent.append(time.monotonic())
            self._seen[client] = recent
            self._seen.move_to_end(client)
            while len(self._seen) > self.max_clients:
                self._seen.popitem(last=False)
            return len(recent)

    def _recent(self, client: str, now: float) -> list[float]:
        times = [t for t in self._seen.get(client, []) if now - t < 60.0]
        if times:
            self._seen[client] = times
        else:
            self._seen.pop(client, None)
        return times
