"""Signing in to the UI with OpenID Connect (authorization code + PKCE) against a real
identity provider over HTTP: a small one written here (discovery, authorize, token, JWKS),
reached as ``localhost`` while the site is ``127.0.0.1``, so the browser treats the two
as different sites, as it would a real provider."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from playwright.sync_api import Page, expect
from web_site import Site, serving

from modelatlas.config import Settings
from modelatlas.governance import Principal
from modelatlas.registry import Registry

CLIENT_ID = "modelatlas-web"
CLIENT_SECRET = "s3cret/with+chars"  # form-encoded before Basic auth (RFC 6749 2.3.1)
API_AUDIENCE = "modelatlas-api"
GRACE = Principal(kind="user", person="grace")
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    challenge: str
    nonce: str
    redirect_uri: str


@dataclass
class Provider:
    """An identity provider that signs in everyone who clicks Allow as ``subject``, and
    checks what a real one checks at its token endpoint: the code is single-use and was
    issued for this redirect URI, the PKCE verifier hashes to the challenge, the client
    authenticated with its secret."""

    server: ThreadingHTTPServer
    subject: str = "grace"
    hang_up: bool = False  # the token endpoint drops the connection (the provider is down)
    grants: dict[str, Grant] = field(default_factory=dict)
    authorize_queries: list[dict[str, str]] = field(default_factory=list)
    logout_queries: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.server.server_address[1]}"

    def document(self, path: str) -> dict[str, Any] | None:
        if path == "/.well-known/openid-configuration":
            return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                    "end_session_endpoint": f"{self.url}/logout",
                    "code_challenge_methods_supported": ["S256"]}
        if path == "/jwks":
            jwk = RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
            return {"keys": [{**jwk, "kid": "k1", "use": "sig"}]}
        return None

    def consent_page(self, query: dict[str, str]) -> str:
        """The provider's own page, where the person allows or denies: the browser leaves
        it by a navigation the provider's site starts, as after a real login form."""
        self.authorize_queries.append(query)
        back = query["redirect_uri"]
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(query["code_challenge"], query["nonce"], back)
        allow = {"code": code, "state": query["state"]}
        deny = {"error": "access_denied", "state": query["state"],
                "error_description": "Call +1 555 0100 now"}
        return ('<!doctype html><html lang="en"><head><title>Test IdP</title>'
                '<link rel="icon" href="data:,"></head><body><main>'
                f'<a href="{html.escape(back)}?{html.escape(urlencode(allow))}">Allow</a> '
                f'<a href="{html.escape(back)}?{html.escape(urlencode(deny))}">Deny</a>'
                '</main></body></html>')

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        expected = base64.b64encode(b"modelatlas-web:s3cret%2Fwith%2Bchars").decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        grant = self.grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (grant is None or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != grant.redirect_uri
                or digest.rstrip(b"=").decode() != grant.challenge):
            return 400, {"error": "invalid_grant"}
        return 200, {"token_type": "Bearer", "expires_in": 300,
                     "id_token": self.jwt(aud=CLIENT_ID, nonce=grant.nonce),
                     "access_token": self.jwt(aud=API_AUDIENCE)}

    def jwt(self, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "sub": self.subject, "iat": now, "exp": now + 300,
                "groups": ["fraud-team"], **claims}
        return jwt.encode(body, KEY, algorithm="RS256", headers={"kid": "k1"})


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/logout":  # RP-Initiated Logout: end the session, go back
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                provider.logout_queries.append(query)
                self.send_response(303)
                self.send_header("location", query["post_logout_redirect_uri"])
                self.send_header("content-length", "0")
                self.end_headers()
                return
            if parts.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = provider.consent_page(query).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            document = provider.document(parts.path)
            self._json(404 if document is None else 200, document or {})

        def do_POST(self) -> None:
            if provider.hang_up:
                self.close_connection = True
                return
            length = int(self.headers.get("content-length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._json(*provider.token(form, self.headers.get("authorization", "")))

        def _json(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    made = Provider(server)
    server.RequestHandlerClass = _handler(made)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield made
    server.shutdown()
    server.server_close()


@contextmanager
def oidc_site(provider: Provider, sqlite_template: Path, home: Path,
              **overrides: Any) -> Iterator[Site]:
    """An empty registry that requires sign-in and trusts ``provider`` (the demo's data
    would add nothing here but time)."""
    chosen: dict[str, Any] = {
        "auth_required": True, "oidc_issuer": provider.url, "oidc_audience": CLIENT_ID,
        "oidc_algorithms": "RS256", "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET, "oidc_provider_name": "Test IdP", **overrides}

    def empty(settings: Settings) -> Registry:
        shutil.copyfile(sqlite_template, home / "registry.db")
        return Registry.open(settings)

    with serving(home, empty, **chosen) as site:
        yield site


@pytest.fixture(scope="module")
def site(provider: Provider, sqlite_template: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with oidc_site(provider, sqlite_template, tmp_path_factory.mktemp("oidc-site")) as made:
        yield made


def test_sign_in_with_the_provider_in_a_browser(
        site: Site, provider: Provider, page: Page) -> None:
    page.goto(f"{site.url}/?q=fraud")
    expect(page).to_have_url(f"{site.url}/sign-in?next=%2F%3Fq%3Dfraud")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.get_by_role("link", name="Deny").click()
    expect(page.get_by_role("alert")).to_contain_text("Test IdP did not sign you in")
    expect(page.get_by_role("alert")).not_to_contain_text("555")  # never the provider's text
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.get_by_role("link", name="Allow").click()
    expect(page).to_have_url(f"{site.url}/?q=fraud")
    expect(page.get_by_text("Signed in as")).to_contain_text("grace")
    sent = provider.authorize_queries[-1]
    assert (sent["code_challenge_method"], sent["scope"]) == ("S256", "openid profile email")
    assert sent["redirect_uri"] == f"{site.url}/sign-in/oidc/callback"
    # signing out ends the provider's session too, and the provider sends the browser back
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/sign-in")
    ended = provider.logout_queries[-1]
    assert (ended["client_id"], ended["post_logout_redirect_uri"]) == (
        CLIENT_ID, f"{site.url}/sign-in")
    hint = jwt.decode(ended["id_token_hint"], options={"verify_signature": False})
    assert (hint["aud"], hint["sub"]) == (CLIENT_ID, "grace")
    page.goto(f"{site.url}/")
    expect(page).to_have_url(f"{site.url}/sign-in?next=%2F")


def _start(browser: httpx.Client, next_path: str = "/") -> str:
    """Begin a flow; the provider's answer (the callback URL with code and state)."""
    to_provider = browser.get("/sign-in/oidc", params={"next": next_path})
    assert to_provider.status_code == 303, to_provider.text
    consent = httpx.get(to_provider.headers["location"])  # no cookies of the site's
    allow = re.search(r'<a href="([^"]+)">Allow</a>', consent.text)
    assert allow is not None, consent.text
    return html.unescape(allow.group(1))


def test_the_flow_cookie_is_httponly_lax_and_one_shot(site: Site, provider: Provider) -> None:
    with httpx.Client(base_url=site.url) as browser:
        callback = _start(browser, "/search")
        started = browser.cookies.jar
        flow = next(c for c in started if c.name == "modelatlas_oidc")
        assert flow.has_nonstandard_attr("HttpOnly") and flow.path == "/"
        assert flow.get_nonstandard_attr("SameSite") == "lax"
        done = browser.get(callback)
        assert done.status_code == 200
        assert 'http-equiv="refresh" content="0;url=/search"' in done.text
        assert "modelatlas_session" in browser.cookies
        assert "modelatlas_oidc" not in browser.cookies
        assert browser.get("/").status_code == 200
        replay = browser.get(callback)  # the cookie is gone: nothing to match
        assert "expired or began in another browser" in replay.text


def test_a_callback_for_another_flow_is_refused(site: Site, provider: Provider) -> None:
    with httpx.Client(base_url=site.url) as victim, httpx.Client(base_url=site.url) as thief:
        _start(victim)
        # the attacker's own code, planted in the victim's browser (login CSRF)
        planted = _start(thief).replace("state=", "state=x")
        answer = victim.get(planted)
        assert answer.status_code == 200
        assert "not for the sign-in this browser started" in answer.text
        assert "modelatlas_session" not in victim.cookies
        # the right state, a stolen code: the PKCE verifier in the victim's cookie is not
        # the thief's, so the provider refuses the exchange
        thief_code = parse_qs(urlsplit(_start(thief)).query)["code"][0]
        victims = parse_qs(urlsplit(_start(victim)).query)["state"][0]
        stolen = victim.get("/sign-in/oidc/callback",
                            params={"code": thief_code, "state": victims})
        assert "refused the sign-in (invalid_grant)" in stolen.text
        assert "modelatlas_session" not in victim.cookies


def test_a_provider_that_cannot_be_reached_is_said_so(site: Site, provider: Provider) -> None:
    with httpx.Client(base_url=site.url) as browser:
        callback = _start(browser)
        provider.hang_up = True
        try:
            answer = browser.get(callback)
        finally:
            provider.hang_up = False
        assert answer.status_code == 200
        assert "the identity provider cannot be reached" in answer.text
        assert "modelatlas_session" not in browser.cookies


def test_the_access_token_is_kept_when_the_registry_audience_is_the_api(
        provider: Provider, sqlite_template: Path, tmp_path: Path) -> None:
    with oidc_site(provider, sqlite_template, tmp_path, oidc_audience=API_AUDIENCE) as site, \
            httpx.Client(base_url=site.url) as browser:
        browser.get(_start(browser))
        kept = browser.cookies["modelatlas_session"]
        assert jwt.decode(kept, options={"verify_signature": False})["aud"] == API_AUDIENCE
        home = browser.get("/")
        assert home.status_code == 200 and "grace" in home.text


def _sign_out(browser: httpx.Client) -> httpx.Response:
    return browser.post("/sign-out", data={"csrf_token": browser.cookies["modelatlas_csrf"]})


def test_signing_out_names_the_id_token_only_and_never_waits_on_the_provider(
        provider: Provider, sqlite_template: Path, tmp_path: Path) -> None:
    with oidc_site(provider, sqlite_template, tmp_path, oidc_audience=API_AUDIENCE) as site, \
            httpx.Client(base_url=site.url) as browser:
        browser.get(_start(browser))
        browser.get("/sign-in")  # the form's CSRF cookie
        out = _sign_out(browser)
        assert out.status_code == 200 and "modelatlas_session" not in browser.cookies
        to = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', out.text)
        assert to is not None and html.unescape(to.group(1)).startswith(f"{provider.url}/logout?")
        sent = parse_qs(urlsplit(html.unescape(to.group(1))).query)
        # the kept credential is the API's access token: it is no ID token to hint with
        assert "id_token_hint" not in sent and sent["client_id"] == [CLIENT_ID]
        # a session of a pasted registry token stays on this site
        token = site.registry.create_token({"name": "pasted"}, principal=GRACE).token
        assert browser.post("/sign-in", data={"token": token, "next": "/", "csrf_token":
                                              browser.cookies["modelatlas_csrf"]}
                            ).status_code == 303
        local = _sign_out(browser)
        assert (local.status_code, local.headers["location"]) == (303, "/sign-in")


def test_without_a_client_id_there_is_no_provider_button(
        provider: Provider, sqlite_template: Path, tmp_path: Path) -> None:
    # OIDC bearer tokens for the API only: the UI has no client at the provider
    with oidc_site(provider, sqlite_template, tmp_path, oidc_client_id=None,
                 oidc_client_secret=None) as api_only:
        assert "Sign in with" not in httpx.get(f"{api_only.url}/sign-in").text
        assert httpx.get(f"{api_only.url}/sign-in/oidc").status_code == 404
