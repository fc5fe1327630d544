"""OIDC bearer tokens against a real HTTP server publishing a JWKS: the good token, and
every attack the verifier must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from modelatlas.governance.oidc import (
    CredentialRejected,
    OidcConfig,
    OidcVerifier,
    ProviderUnavailable,
)

AUDIENCE = "modelatlas"
# generated once: RSA key generation dominates the run time otherwise
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
INTRUDER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Provider:
    """An identity provider: discovery document and JWKS over HTTP, and a signer."""

    def __init__(self) -> None:
        self.rsa = RSA_KEY
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.documents: dict[str, Any] = {}
        self.hits: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.publish()

    def publish(self, *extra: dict[str, Any]) -> None:
        rsa_jwk = RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True)
        ec_jwk = ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True)
        keys = [{**rsa_jwk, "kid": "rsa-1", "use": "sig"}, {**ec_jwk, "kid": "ec-1"}, *extra]
        self.documents["/jwks"] = {"keys": keys}
        self.documents["/.well-known/openid-configuration"] = {
            "issuer": self.url, "jwks_uri": f"{self.url}/jwks"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.hits.append(self.path)
                document = provider.documents.get(self.path)
                body = json.dumps(document).encode()
                self.send_response(404 if document is None else 200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"sub": "ada", "iss": self.url, "aud": AUDIENCE, "iat": now,
                  "exp": now + 300, "groups": ["fraud-team", "ml-platform"]}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, kid: str = "rsa-1", alg: str = "RS256", key: Any = None,
              **overrides: Any) -> str:
        return jwt.encode(self.claims(**overrides), key or self.rsa, algorithm=alg,
                          headers={"kid": kid})


@pytest.fixture
def provider() -> Iterator[Provider]:
    made = Provider()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


def verifier_for(provider: Provider, **overrides: Any) -> OidcVerifier:
    config: dict[str, Any] = {"issuer": provider.url, "audience": AUDIENCE,
                              "algorithms": ("RS256", "ES256"), "leeway_seconds": 5}
    config.update(overrides)
    return OidcVerifier(OidcConfig(**config))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWT assembled by hand, as an attacker would (PyJWT refuses to make these)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(),
                                                  hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def rejected(verifier: OidcVerifier, token: str) -> str:
    with pytest.raises(CredentialRejected) as caught:
        verifier.verify(token)
    return caught.value.reason


def test_a_valid_token_names_the_person_and_maps_groups(provider: Provider) -> None:
    verifier = verifier_for(provider)
    principal = verifier.verify(provider.token())
    assert (principal.kind, principal.person) == ("user", "ada")
    assert principal.groups == {"fraud-team", "ml-platform"}
    ec_token = provider.token(kid="ec-1", alg="ES256", key=provider.ec)
    assert verifier.verify(ec_token).person == "ada"
    # discovery first, then the JWKS, then served from the cache
    assert provider.hits == ["/.well-known/openid-configuration", "/jwks"]


def test_the_groups_claim_name_is_configurable(provider: Provider) -> None:
    verifier = verifier_for(provider, groups_claim="roles")
    token = provider.token(roles=["approvers"])
    assert verifier.verify(token).groups == {"approvers"}


def test_alg_none_is_refused(provider: Provider) -> None:
    token = forged({"alg": "none", "kid": "rsa-1", "typ": "JWT"}, provider.claims(), None)
    assert "algorithm" in rejected(verifier_for(provider), token)


def test_hs256_signed_with_the_public_key_is_refused(provider: Provider) -> None:
    public_pem = provider.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    token = forged({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}, provider.claims(),
                   public_pem)
    assert "algorithm" in rejected(verifier_for(provider), token)


def test_hmac_algorithms_cannot_even_be_configured(provider: Provider) -> None:
    with pytest.raises(ValueError, match="HS256"):
        verifier_for(provider, algorithms=("RS256", "HS256"))


def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(
        provider: Provider) -> None:
    intruder = INTRUDER_KEY
    reason = rejected(verifier_for(provider), provider.token(key=intruder))
    assert reason == "the token's signature does not verify"


def test_a_key_of_the_wrong_type_for_the_algorithm_is_refused(provider: Provider) -> None:
    # ES256 header naming the RSA key: the JWK's type does not fit the algorithm
    token = provider.token(kid="rsa-1", alg="ES256", key=provider.ec)
    assert "does not fit" in rejected(verifier_for(provider), token)


def test_an_unknown_kid_refetches_once_then_is_refused(provider: Provider) -> None:
    verifier = verifier_for(provider)
    verifier.verify(provider.token())
    provider.hits.clear()
    intruder = INTRUDER_KEY
    assert "not one the provider publishes" in rejected(
        verifier, provider.token(kid="rotated-2", key=intruder))
    assert "not one the provider publishes" in rejected(
        verifier, provider.token(kid="rotated-3", key=intruder))
    # the cooldown holds: two unknown kids, no refetch within REFRESH_COOLDOWN seconds
    assert provider.hits == []


def test_a_rotated_key_is_found_by_refetching(provider: Provider, monkeypatch:
                                               pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("modelatlas.governance.oidc.REFRESH_COOLDOWN", 0.0)
    verifier = verifier_for(provider)
    verifier.verify(provider.token())
    rotated = INTRUDER_KEY
    provider.publish({**RSAAlgorithm.to_jwk(rotated.public_key(), as_dict=True),
                      "kid": "rsa-2"})
    assert verifier.verify(provider.token(kid="rsa-2", key=rotated)).person == "ada"


@pytest.mark.parametrize(("overrides", "reason"), [
    # times relative to the test's run (the suite may run this long after collecting it)
    ({"exp": -60}, "the token has expired"),
    ({"nbf": +600}, "the token is not valid yet"),
    ({"aud": "another-app"}, "the token is meant for another audience"),
    ({"iss": "https://evil.example"}, "the token was issued by another issuer"),
    ({"sub": None}, "the token lacks the 'sub' claim"),
    ({"exp": None}, "the token lacks the 'exp' claim"),
    ({"aud": None}, "the token lacks the 'aud' claim"),
    ({"iss": None}, "the token lacks the 'iss' claim"),
], ids=["expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "no-sub", "no-exp",
        "no-aud", "no-iss"])
def test_claims_are_checked(provider: Provider, overrides: dict[str, Any],
                            reason: str) -> None:
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "nbf") and v is not None else v
              for k, v in overrides.items()}
    assert rejected(verifier_for(provider), provider.token(**claims)) == reason


def test_small_clock_skew_is_tolerated(provider: Provider) -> None:
    token = provider.token(nbf=int(time.time()) + 2)
    assert verifier_for(provider).verify(token).person == "ada"


def test_garbage_and_missing_kid_are_refused(provider: Provider) -> None:
    verifier = verifier_for(provider)
    assert "well-formed" in rejected(verifier, "not.a.jwt")
    no_kid = jwt.encode(provider.claims(), provider.rsa, algorithm="RS256")
    assert "kid" in rejected(verifier, no_kid)


def test_an_unreachable_provider_is_unavailable_not_a_rejection(provider: Provider) -> None:
    verifier = verifier_for(provider, jwks_url=f"{provider.url}/missing")
    with pytest.raises(ProviderUnavailable):
        verifier.prefetch()
