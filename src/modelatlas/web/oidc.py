"""Signing in to the UI with the organisation's identity provider: the OpenID Connect
authorization code flow with PKCE (RFC 7636, ``S256``).

``GET /sign-in/oidc`` starts it: a random ``state``, ``nonce`` and PKCE verifier go into a
short-lived cookie and the browser is sent to the provider. ``GET /sign-in/oidc/callback``
finishes it: the ``state`` must match the cookie's, the code is exchanged (with the
verifier) at the token endpoint, the ID token must carry the cookie's ``nonce``, and the
token the registry itself accepts becomes the session credential (``session.sign_in``),
re-authenticated on every page like a pasted token. Nothing about the flow lives in the
process, so any server behind a load balancer can finish what another started.

Which token is kept: :meth:`Registry.authenticate` verifies JWTs against
``MODELATLAS_OIDC_AUDIENCE``. An ID token's ``aud`` is the UI's client id, so when the
audience setting names that client id the ID token is kept; otherwise the provider must
issue JWT access tokens for that audience (the API's), and the access token is kept,
provided it is about the same ``sub`` as the ID token. Either way the registry, not this
module, decides that the credential is good.

Every failure renders the sign-in page again with a message of ours (200, as the token
form does); the provider's free-text ``error_description`` is never shown, so a crafted
callback link cannot put words on this site's page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

import httpx
import jwt
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from modelatlas.config import Settings
from modelatlas.errors import ModelAtlasError, NotFound
from modelatlas.web import session as _session
from modelatlas.web._render import TEMPLATES, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FLOW_SECONDS = 600  # time a person has at the provider (consent, second factor)
DISCOVERY_SECONDS = 3600.0
HTTP_TIMEOUT = 5.0
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


class SignInFailed(Exception):
    """The flow stopped; the message is ours and safe to show on the sign-in page."""


# the flow's cookie ---------------------------------------------------------------------
@dataclass(frozen=True)
class Flow:
    """What the callback must match: kept in the browser between the two requests.

    The cookie is neither signed nor encrypted, on purpose: its values are random, are
    only compared with what comes back, and are never trusted to say who anyone is. An
    attacker who cannot read the victim's cookie cannot make a callback that matches it
    (which is what defeats login CSRF and code injection); one who could set it (a
    sibling subdomain) is kept out by the ``__Host-`` prefix over https. ``HttpOnly``
    keeps page scripts from reading the verifier, ``SameSite=Lax`` (not Strict) lets the
    provider's redirect back, a cross-site top-level GET, carry it.
    """

    state: str
    nonce: str
    verifier: str
    next: str

    @classmethod
    def start(cls, target: str) -> Flow:
        return cls(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                   verifier=secrets.token_urlsafe(64), next=target)

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode("ascii")

    @classmethod
    def decode(cls, raw: str | None) -> Flow | None:
        if not raw:
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
            flow = cls(**{k: str(fields[k]) for k in ("state", "nonce", "verifier", "next")})
        except (ValueError, TypeError, KeyError):
            return None
        return flow


def _flow_cookie(request: Request) -> str:
    return "__Host-modelatlas_oidc" if _session.secure_cookies(request) else "modelatlas_oidc"


def _keep_flow(request: Request, response: Response, flow: Flow) -> None:
    response.set_cookie(_flow_cookie(request), flow.encode(), max_age=FLOW_SECONDS,
                        httponly=True, samesite="lax", secure=_session.secure_cookies(request),
                        path="/")


def _forget_flow(request: Request, response: Response) -> None:
    # one flow, one callback: a replayed callback URL finds no cookie
    response.delete_cookie(_flow_cookie(request), path="/", secure=_session.secure_cookies(request),
                           httponly=True, samesite="lax")


# the provider ----------------------------------------------------------------------------
def provider_name(settings: Settings) -> str | None:
    """The name on the sign-in button, or ``None`` when the UI cannot sign in with OIDC."""
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return None
    return settings.oidc_provider_name or urlsplit(settings.oidc_issuer).hostname or "OIDC"


def _provider_name_of(request: Request) -> str | None:
    return provider_name(_session.settings_of(request))


# the sign-in template asks for the button's name without every page passing it
TEMPLATES.env.globals["oidc_provider_name"] = _provider_name_of

_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovered_lock = threading.Lock()


def discovery(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, cached per process for ``DISCOVERY_SECONDS``
    (derived from the provider: another process fetching its own copy is harmless)."""
    with _discovered_lock:
        cached = _discovered.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
            return cached[1]
    document = _fetch_discovery(issuer)
    with _discovered_lock:
        _discovered[issuer] = (time.monotonic(), document)
    return document


def _fetch_discovery(issuer: str) -> dict[str, Any]:
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        answer = httpx.get(url, timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        document = answer.json()
    except (httpx.HTTPError, ValueError):
        raise SignInFailed("the identity provider cannot be reached: try again in a "
                           "moment") from None
    if not isinstance(document, dict) or document.get("issuer") not in (
            issuer, issuer.rstrip("/")):
        raise SignInFailed("the identity provider's discovery document names another "
                           "issuer: ask the registry's administrator")
    for field in ("authorization_endpoint", "token_endpoint"):
        if not str(document.get(field, "")).startswith(("https://", "http://")):
            raise SignInFailed(f"the identity provider publishes no {field}")
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise SignInFailed("the identity provider does not support PKCE (S256)")
    return document


# the routes ------------------------------------------------------------------------------
def _configured(request: Request) -> tuple[Settings, str]:
    settings = _session.settings_of(request)
    name = provider_name(settings)
    if name is None:
        raise NotFound("sign-in with an identity provider is not configured here")
    return settings, name


def _redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_url or str(request.url_for("oidc_callback"))


@router.get("/sign-in/oidc")
def start(request: Request, next: str | None = None) -> Response:
    """Send the browser to the provider, remembering the flow in a cookie."""
    settings, _name = _configured(request)
    target = _session.safe_next(next)
    try:
        document = discovery(str(settings.oidc_issuer))
    except SignInFailed as exc:
        return _sign_in_again(request, target, str(exc))
    flow = Flow.start(target)
    query = urlencode({
        "response_type": "code", "client_id": settings.oidc_client_id,
        "redirect_uri": _redirect_uri(request, settings), "scope": settings.oidc_scopes,
        "state": flow.state, "nonce": flow.nonce,
        "code_challenge": flow.challenge, "code_challenge_method": "S256",
    })
    endpoint = str(document["authorization_endpoint"])
    joiner = "&" if urlsplit(endpoint).query else "?"
    response = RedirectResponse(f"{endpoint}{joiner}{query}", status_code=303)
    _keep_flow(request, response, flow)
    return response


@router.get("/sign-in/oidc/callback", name="oidc_callback")
def callback(request: Request, code: str | None = None, state: str | None = None,
             error: str | None = None) -> Response:
    """Finish the flow: check it, exchange the code, sign the person in."""
    settings, name = _configured(request)
    flow = Flow.decode(request.cookies.get(_flow_cookie(request)))
    try:
        checked = _checked(flow, code, state, error, name)
        credential = _credential(_exchange(request, settings, checked, str(code)),
                                 settings, checked)
        response = _continue_to(request, checked.next)
        _session.sign_in(request, response, credential)
    except SignInFailed as exc:
        response = _sign_in_again(request, flow.next if flow else "/", str(exc))
    except ModelAtlasError as exc:  # the registry refused the token, or is rate limiting
        response = _sign_in_again(request, flow.next if flow else "/", exc.detail)
    _forget_flow(request, response)
    return response


def _checked(flow: Flow | None, code: str | None, state: str | None, error: str | None,
             name: str) -> Flow:
    if error:
        if error == "access_denied":
            raise SignInFailed(f"{name} did not sign you in: access was denied or the "
                               "sign-in was cancelled")
        shown = error if _ERROR_CODE.match(error) else "an error"
        raise SignInFailed(f"{name} could not sign you in ({shown}): try again")
    if flow is None:
        raise SignInFailed("this sign-in expired or began in another browser: start again")
    if not state or not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise SignInFailed("this answer from the identity provider is not for the sign-in "
                           "this browser started: start again")
    if not code:
        raise SignInFailed(f"{name} sent no authorization code: start again")
    return flow


def _exchange(request: Request, settings: Settings, flow: Flow, code: str) -> dict[str, Any]:
    """The token endpoint's answer to the code and the PKCE verifier (RFC 6749 4.1.3)."""
    document = discovery(str(settings.oidc_issuer))
    client_id = str(settings.oidc_client_id)
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": _redirect_uri(request, settings), "code_verifier": flow.verifier}
    auth: tuple[str, str] | None = None
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret \
        else None
    methods = document.get("token_endpoint_auth_methods_supported") or []
    if secret and "client_secret_basic" not in methods and "client_secret_post" in methods:
        form |= {"client_id": client_id, "client_secret": secret}
    elif secret:  # client_secret_basic, the default: both parts form-encoded first (2.3.1)
        auth = (quote_plus(client_id), quote_plus(secret))
    else:  # a public client: PKCE is what binds the code to this browser's flow
        form["client_id"] = client_id
    try:
        answer = httpx.post(str(document["token_endpoint"]), data=form, auth=auth,
                            headers={"accept": "application/json"}, timeout=HTTP_TIMEOUT)
        tokens = answer.json()
    except (httpx.HTTPError, ValueError):
        raise SignInFailed("the identity provider cannot be reached: try again in a "
                           "moment") from None
    if answer.status_code != 200 or not isinstance(tokens, dict):
        code_name = tokens.get("error") if isinstance(tokens, dict) else None
        shown = code_name if isinstance(code_name, str) and _ERROR_CODE.match(code_name) \
            else f"HTTP {answer.status_code}"
        raise SignInFailed(f"the identity provider refused the sign-in ({shown}): start "
                           "again")
    return tokens


def _credential(tokens: dict[str, Any], settings: Settings, flow: Flow) -> str:
    """The token to keep as the session: the ID token when the registry's audience is the
    UI's client id, else the access token (a JWT for the registry's audience)."""
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SignInFailed("the identity provider sent no ID token (is the openid scope "
                           "allowed for this client?)")
    claims = _claims(id_token)
    # Received straight from the token endpoint, so its issuer and nonce may be read before
    # its signature is checked (OIDC Core 3.1.3.7, item 6); the kept token is verified in
    # full by Registry.authenticate right after.
    audiences = _audiences(claims)
    if (claims.get("iss") != settings.oidc_issuer
            or settings.oidc_client_id not in audiences
            or not hmac.compare_digest(str(claims.get("nonce", "")).encode(),
                                       flow.nonce.encode())):
        raise SignInFailed("the identity provider's answer is not for this sign-in: start "
                           "again")
    if settings.oidc_audience in audiences:
        return id_token
    access = tokens.get("access_token")
    if not isinstance(access, str) or access.count(".") != 2 \
            or _claims(access).get("sub") != claims.get("sub"):
        raise SignInFailed("the identity provider's tokens are not meant for this registry "
                           "(MODELATLAS_OIDC_AUDIENCE): ask its administrator")
    return access


def _claims(token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise SignInFailed("the identity provider sent a token that is not a JWT") from None
    return claims


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


def _continue_to(request: Request, target: str) -> Response:
    """A page that moves on to ``target`` itself, rather than a redirect: the session cookie
    is ``SameSite=Strict``, and a redirect chain that began at the provider is cross-site,
    so the first page after it would not get the cookie just set. A navigation this page
    starts is same-site (a meta refresh: the policy allows no inline script)."""
    return render(request, "oidc_continue.html", {"next": _session.safe_next(target)})


# signing out ------------------------------------------------------------------------------
def end_session(request: Request, credential: str | None) -> Response | None:
    """For a browser signing out of a session the provider began, a page that goes on to
    the provider's ``end_session_endpoint`` (OpenID Connect RP-Initiated Logout 1.0), so
    that its session ends too and the next "Sign in with" asks again rather than signing
    the person straight back in; ``None`` to stay on this site: a pasted token, a provider
    that publishes no such endpoint or cannot be reached (signing out here never depends
    on the provider). A page, not a redirect: the sign-out form's ``form-action 'self'``
    would stop a redirect to the provider."""
    settings = _session.settings_of(request)
    name = provider_name(settings)
    if credential is None or name is None or settings.oidc_issuer is None:
        return None
    endpoint = _end_session_endpoint(settings.oidc_issuer, credential)
    if endpoint is None:
        return None
    params = {"client_id": settings.oidc_client_id or "",
              "post_logout_redirect_uri": _signed_out_uri(request, settings)}
    if settings.oidc_client_id in _audiences(_claims(credential)):
        params["id_token_hint"] = credential  # the ID token: its audience is this client
    joiner = "&" if urlsplit(endpoint).query else "?"
    return render(request, "oidc_signed_out.html",
                  {"provider": name, "provider_url": f"{endpoint}{joiner}{urlencode(params)}"})


def _end_session_endpoint(issuer: str, credential: str) -> str | None:
    try:
        if _claims(credential).get("iss") not in (issuer, issuer.rstrip("/")):
            return None  # not the provider's token (a registry token pasted in the form)
        endpoint = discovery(issuer).get("end_session_endpoint")
    except SignInFailed:
        return None
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None
    return endpoint


def _signed_out_uri(request: Request, settings: Settings) -> str:
    """Where the provider sends the browser back: this site's sign-in page, on the host
    the callback is configured for when it is (a site behind a proxy)."""
    if settings.oidc_redirect_url:
        parts = urlsplit(settings.oidc_redirect_url)
        return urlunsplit((parts.scheme, parts.netloc, "/sign-in", "", ""))
    return str(request.url_for("sign_in_page"))


def _sign_in_again(request: Request, target: str, message: str) -> Response:
    return render(request, "sign_in.html", {"next": _session.safe_next(target),
                                            "error": message})
