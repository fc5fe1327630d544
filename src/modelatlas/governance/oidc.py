"""OIDC bearer tokens: a JWT from the organisation's identity provider, verified against the
provider's published keys (JWKS).

Checked, in this order, before a claim is believed: the header's ``alg`` is in the
configured allow-list (asymmetric algorithms only: ``none`` and the HMAC family can never
be configured, which also rules out the HS256-with-the-public-key confusion); its ``kid``
names a key the provider publishes, whose type fits the algorithm; the signature; then
``iss``, ``aud``, ``exp`` and ``nbf`` (with a small leeway for clock skew), and the
presence of ``sub``, ``iss``, ``aud`` and ``exp``. The groups claim becomes
``Principal.groups``.

The JWKS is fetched with httpx and cached; an unknown ``kid`` triggers one refetch (a key
rotation), at most every ``REFRESH_COOLDOWN`` seconds, so tokens naming random key ids
cannot make the server hammer the provider. The cache is derived from the provider and
holds nothing another server process needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from jwt import PyJWK

from modelatlas.governance.principal import Principal

ASYMMETRIC_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
})
REQUIRED_CLAIMS = ("sub", "iss", "aud", "exp")
CACHE_SECONDS = 600.0
REFRESH_COOLDOWN = 30.0
FETCH_TIMEOUT = 5.0

# The key type (and curve) each algorithm family needs: a JWK of another type is refused
# even if PyJWT could be coaxed into using it.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


class CredentialRejected(Exception):
    """A credential that does not prove who is calling. ``reason`` is one of a few fixed
    phrases, safe to show to the caller (no library message or key material in it)."""

    def __init__(self, reason: str, *, token_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token_id = token_id


class ProviderUnavailable(Exception):
    """The identity provider's discovery document or keys cannot be fetched."""


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    jwks_url: str | None = None
    groups_claim: str = "groups"
    username_claim: str = "sub"
    leeway_seconds: int = 30

    def __post_init__(self) -> None:
        bad = [a for a in self.algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad or not self.algorithms:
            raise ValueError(f"OIDC algorithms must be among {sorted(ASYMMETRIC_ALGORITHMS)}"
                             f" (got {bad or 'none'})")


class OidcVerifier:
    """Verifies JWTs of one provider. Thread-safe: the key cache is guarded by a lock."""

    def __init__(self, config: OidcConfig, *, http: httpx.Client | None = None) -> None:
        self.config = config
        # fetches are rare (start-up, every CACHE_SECONDS, key rotation): without a given
        # client each opens its own connection, so the verifier holds nothing to close
        self._http = http
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = float("-inf")
        self._jwks_url = config.jwks_url

    def prefetch(self) -> None:
        """Fetch the keys now (at start-up: an unreachable provider stops the server)."""
        with self._lock:
            self._refresh()

    def verify(self, token: str) -> Principal:
        """The principal ``token`` proves, or :class:`CredentialRejected`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise CredentialRejected("the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in self.config.algorithms:
            raise CredentialRejected("the token's signing algorithm is not accepted")
        jwk = self._key(header.get("kid"))
        key = _usable_key(jwk, str(alg))
        claims = self._decode(token, key, str(alg))
        return self._principal(claims)

    # internals -------------------------------------------------------------------------
    def _decode(self, token: str, key: Any, alg: str) -> dict[str, Any]:
        cfg = self.config
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[alg], audience=cfg.audience, issuer=cfg.issuer,
                leeway=cfg.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise CredentialRejected("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise CredentialRejected("the token is not valid yet") from None
        except jwt.MissingRequiredClaimError as exc:
            raise CredentialRejected(f"the token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidAudienceError:
            raise CredentialRejected("the token is meant for another audience") from None
        except jwt.InvalidIssuerError:
            raise CredentialRejected("the token was issued by another issuer") from None
        except jwt.InvalidSignatureError:
            raise CredentialRejected("the token's signature does not verify") from None
        except jwt.PyJWTError:
            raise CredentialRejected("the token is not valid") from None
        return claims

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        person = claims.get(self.config.username_claim)
        if not isinstance(person, str) or not person.strip():
            raise CredentialRejected(
                f"the token lacks the {self.config.username_claim!r} claim")
        raw = claims.get(self.config.groups_claim, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            raise CredentialRejected(f"the {self.config.groups_claim!r} claim is not a list")
        groups = frozenset(g for g in raw if isinstance(g, str) and g)
        return Principal(kind="user", person=person, groups=groups)

    def _key(self, kid: object) -> dict[str, Any]:
        if not isinstance(kid, str) or not kid:
            raise CredentialRejected("the token names no signing key (kid)")
        with self._lock:
            now = time.monotonic()
            stale = now - self._fetched_at > CACHE_SECONDS
            may_refresh = now - self._fetched_at > REFRESH_COOLDOWN
            if stale or (kid not in self._keys and may_refresh):
                self._refresh()
            found = self._keys.get(kid)
        if found is None:
            raise CredentialRejected("the token's signing key is not one the provider "
                                     "publishes")
        return found

    def _refresh(self) -> None:
        """Fetch the JWKS (discovering its URL first if not configured). Callers hold
        the lock. A failed fetch keeps the previous keys and raises."""
        self._fetched_at = time.monotonic()
        if self._jwks_url is None:
            issuer = self.config.issuer.rstrip("/")
            document = self._get_json(f"{issuer}/.well-known/openid-configuration")
            uri = document.get("jwks_uri")
            if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
                raise ProviderUnavailable("the discovery document has no jwks_uri")
            if document.get("issuer") not in (self.config.issuer, issuer):
                raise ProviderUnavailable("the discovery document names another issuer")
            self._jwks_url = uri
        keys = self._get_json(self._jwks_url).get("keys")
        if not isinstance(keys, list):
            raise ProviderUnavailable("the JWKS document has no keys")
        self._keys = {k["kid"]: k for k in keys
                      if isinstance(k, dict) and isinstance(k.get("kid"), str)}

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = (self._http.get(url) if self._http is not None
                        else httpx.get(url, timeout=FETCH_TIMEOUT))
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(f"cannot fetch {url}: {type(exc).__name__}") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{url} is not a JSON object")
        return document


def _usable_key(jwk: Mapping[str, Any], alg: str) -> Any:
    """The public key of ``jwk`` for ``alg``, refusing a key of the wrong type, a key
    pinned to another algorithm, a key meant for encryption, or private key material."""
    if jwk.get("kty") != _KEY_TYPES.get(alg[:2]):
        raise CredentialRejected("the token's signing key does not fit its algorithm")
    if jwk.get("alg") not in (None, alg) or jwk.get("use") not in (None, "sig"):
        raise CredentialRejected("the token's signing key does not fit its algorithm")
    if "d" in jwk:  # a provider never publishes private keys; do not use one if it did
        raise CredentialRejected("the token's signing key is not a public key")
    try:
        return PyJWK(dict(jwk), algorithm=alg).key
    except jwt.PyJWTError:
        raise CredentialRejected("the token's signing key cannot be used") from None
