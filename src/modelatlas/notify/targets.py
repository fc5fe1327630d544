"""Which URLs a registry may POST to (the SSRF guard).

A webhook URL is checked when it is saved and again before every delivery, because what a
name resolves to can change: every address the host resolves to must be a public one. Not
loopback, private (RFC 1918, IPv6 ULA), shared (100.64/10), link-local (169.254/16, where
cloud metadata services listen), multicast, unspecified or reserved. A delivery then
connects to the address that was checked (:class:`ResolvedTarget`), so a name cannot
resolve to a public address for the check and a private one for the connection.

Private targets are allowed only for a webhook saved with ``allow_private`` while the
operator's setting ``MODELATLAS_WEBHOOK_ALLOW_PRIVATE`` permits it (tests, labs).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL = 2000


class TargetRefused(ValueError):
    """The URL may not be called; ``reason`` says why (no secret in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResolvedTarget:
    """A checked URL and the address a delivery connects to."""

    url: str
    host: str
    address: IPAddress

    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name (the request sends
        the name as ``Host`` and, over TLS, as SNI and for certificate checks)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        return parts._replace(netloc=netloc).geturl()


def check_target(url: str) -> SplitResult:
    """Raise :class:`TargetRefused` for a URL no webhook may have, whatever it resolves
    to: not http(s), credentials in it, no host, too long."""
    if len(url) > MAX_URL:
        raise TargetRefused(f"at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("only http and https URLs")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("no credentials in the URL: the signature authenticates")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if port == 0:
        raise TargetRefused("port 0 cannot be called")
    return parts


def resolve_target(url: str, *, allow_private: bool) -> ResolvedTarget:
    """The URL checked and resolved; raise :class:`TargetRefused` when it may not be
    called (``allow_private``: private addresses are allowed)."""
    parts = check_target(url)
    host = parts.hostname or ""
    addresses = _resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    if not allow_private:
        for address in addresses:
            refusal = refused_address(address)
            if refusal:
                raise TargetRefused(f"{host} resolves to {address}, {refusal}")
    return ResolvedTarget(url=url, host=host, address=addresses[0])


def refused_address(address: IPAddress) -> str | None:
    """Why a delivery may not go to ``address`` (``None``: a public address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refused_address(address.ipv4_mapped)
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address (cloud metadata lives there)"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((why for refused, why in checks if refused), None)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass  # a name: ask the resolver
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"{host} does not resolve") from None
    found: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone
        address = ipaddress.ip_address(text)
        if address not in found:
            found.append(address)
    if not found:
        raise TargetRefused(f"{host} does not resolve")
    return found
