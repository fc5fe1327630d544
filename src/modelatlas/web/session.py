"""Who is using the UI, and protection of its forms against cross-site requests.

Signing in keeps the credential the person gave (an API token, or an OIDC token when a
provider is configured) in an ``HttpOnly``, ``SameSite=Strict`` cookie; every page
authenticates it again through :meth:`Registry.authenticate`, so a revoked token signs the
person out at the next click and nothing about the session lives in the process. Without
authentication required, a person who has not signed in is the local single user, as on
the API.

Forms carry a CSRF token (double submit): a random value in its own cookie and in a hidden
field; a POST whose field does not match its cookie, or whose ``Origin`` is another site, is
refused. ``SameSite=Strict`` already keeps other sites' requests from carrying the cookies;
the token also covers browsers and proxies that do not honour it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request, Response

from modelatlas.config import Settings
from modelatlas.errors import FieldError, Forbidden, InvalidInput, Unauthenticated
from modelatlas.governance import Principal
from modelatlas.registry import Registry

SESSION_COOKIE = "modelatlas_session"
CSRF_COOKIE = "modelatlas_csrf"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600


class SignInRequired(Exception):
    """The page needs a signed-in person and there is none (PageRoute redirects)."""


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def page_principal_or_none(request: Request) -> Principal | None:
    """The signed-in person, the local user when authentication is off, else ``None``."""
    if hasattr(request.state, "page_principal"):
        cached: Principal | None = request.state.page_principal
        return cached
    principal: Principal | None = None
    credential = request.cookies.get(SESSION_COOKIE)
    if credential:
        try:
            principal = registry_of(request).authenticate(credential, client=_client(request))
        except Unauthenticated:
            principal = None  # expired or revoked: as if signed out
    if principal is None and not settings_of(request).auth_required:
        principal = Principal.local(settings_of(request).actor)
    request.state.page_principal = principal
    return principal


def page_principal(request: Request) -> Principal:
    """A page's dependency: the person, or a redirect to the sign-in page."""
    principal = page_principal_or_none(request)
    if principal is None:
        raise SignInRequired
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def page_registry(request: Request) -> Registry:
    return registry_of(request)


PageRegistry = Annotated[Registry, Depends(page_registry)]


def sign_in(request: Request, response: Response, credential: str) -> Principal:
    """Check ``credential`` and keep it in the session cookie (401 when it proves nothing)."""
    principal = registry_of(request).authenticate(credential, client=_client(request))
    response.set_cookie(
        SESSION_COOKIE, credential, max_age=SESSION_SECONDS, httponly=True,
        samesite="strict", secure=secure_cookies(request), path="/",
    )
    return principal


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def secure_cookies(request: Request) -> bool:
    """Mark cookies ``Secure``: the request came over https, or a TLS proxy is declared."""
    return request.url.scheme == "https" or settings_of(request).hsts


def safe_next(target: str | None) -> str:
    """Only a path on this site: ``//evil.example`` or ``https://...`` would make the
    sign-in form an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (a new one when it has none yet)."""
    known = getattr(request.state, "csrf_token", None)
    if known:
        return str(known)
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.state.csrf_token = token
    return token


def keep_csrf_cookie(request: Request, response: Response, token: str) -> None:
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure_cookies(request), path="/")


async def checked_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """A form POST's dependency: refuse (403) a token that does not match the cookie, or a
    request that another origin sent."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        here = f"{request.url.scheme}://{request.url.netloc}"
        parts = urlsplit(origin)
        if f"{parts.scheme}://{parts.netloc}" != here:
            raise Forbidden(f"a form from {origin} may not write here")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not csrf_token or not hmac.compare_digest(cookie, csrf_token):
        raise InvalidInput(
            "the form's CSRF token is missing or stale: reload the page and send it again",
            errors=[FieldError(f"/{CSRF_FIELD}", "does not match this browser's token")],
        )


CSRF = [Depends(checked_csrf)]
