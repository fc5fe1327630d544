"""Browser-facing hardening of every response: security headers, and strict CORS.

* Every response says ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  no-referrer``, ``X-Frame-Options: DENY`` and ``Cross-Origin-Resource-Policy:
  same-origin``; a response that sets no ``Content-Security-Policy`` of its own gets
  ``default-src 'none'; frame-ancestors 'none'`` (JSON needs no sources at all), except the
  interactive API pages (HTML), which load their scripts and keep ``frame-ancestors
  'none'`` only. Artifact downloads set a stricter policy themselves (api/artifacts.py).
* ``Strict-Transport-Security`` goes on responses to requests that came over https, or on
  all of them with ``MODELATLAS_HSTS`` (behind a proxy that terminates TLS).
* CORS: without ``MODELATLAS_CORS_ORIGINS`` there are no CORS headers at all, so browsers
  refuse cross-origin reads. With it, Starlette's ``CORSMiddleware`` answers preflights for
  the listed exact origins and sets ``Access-Control-Allow-Origin`` for them only; other
  origins get no such header. ``*`` is refused at start-up: the API authenticates with bearer
  tokens, not cookies, so credentials are never allowed, and a registry without
  authentication must not be writable from any web page a user visits.
* Cross-site form posts (CSRF) cannot reach a write: every body the API accepts must be
  ``application/json`` (api/strict.py) or, for artifact uploads, ``application/octet-stream``
  sent with PUT, which a form cannot send.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelatlas.config import Settings
from modelatlas.errors import FieldError, InvalidInput

HSTS = "max-age=31536000; includeSubDomains"
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
HTML_CSP = "frame-ancestors 'none'"  # /docs and /redoc load scripts and styles
_ALWAYS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-resource-policy", "same-origin"),
)
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "If-Match", "Idempotency-Key")
CORS_EXPOSED = ("ETag", "Location", "Content-Disposition")


class SecurityHeaders:
    """Adds the headers above to every HTTP response (errors and 404s included)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.hsts or scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS:
                    headers[name] = value
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers["content-security-policy"] = HTML_CSP if html else JSON_CSP
                if hsts:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)


def cors_origins(settings: Settings) -> list[str]:
    """The configured origins, each ``scheme://host[:port]`` exactly; anything else (``*``,
    a path, a pattern) is a configuration error that stops start-up."""
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    errors = [FieldError("MODELATLAS_CORS_ORIGINS", f"{o!r}: {why}")
              for o in origins if (why := _origin_problem(o))]
    if errors:
        raise InvalidInput("CORS is misconfigured: " + "; ".join(e.message for e in errors),
                           errors=errors)
    return origins


def _origin_problem(origin: str) -> str | None:
    if origin == "*" or "*" in origin:
        return "list exact origins; '*' would let any web page call the registry"
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018  # raises on a malformed port
    except ValueError:
        return "not an origin"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "an origin is http(s)://host[:port]"
    if origin != f"{parts.scheme}://{parts.netloc}" or parts.username is not None:
        return "an origin has no path, query, credentials or trailing '/'"
    return None


def install(app: FastAPI, settings: Settings) -> None:
    """Add CORS (when origins are configured) inside the security headers, so preflight
    answers carry the headers too. Call after the other middleware is added."""
    origins = cors_origins(settings)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins,
                           allow_methods=list(CORS_METHODS), allow_headers=list(CORS_HEADERS),
                           expose_headers=list(CORS_EXPOSED), allow_credentials=False)
    app.add_middleware(SecurityHeaders, hsts=settings.hsts)
