"""Rendering pages: one Jinja2 environment, one content security policy, HTML errors.

Every page is rendered through :func:`render`, which gives the template the signed-in
principal and the CSRF token, and sets a strict policy: scripts, styles and requests come
from this origin only (no inline script, no CDN), so an injected ``<script>`` cannot run.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from modelatlas.errors import ModelAtlasError
from modelatlas.web import session as _session

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    """``template`` with ``context``, plus what every page needs (``principal``,
    ``csrf_token``, ``auth_required``, ``path``)."""
    csrf = _session.csrf_token(request)
    full: dict[str, Any] = {
        "principal": _session.page_principal_or_none(request),
        "csrf_token": csrf,
        "auth_required": _session.settings_of(request).auth_required,
        "path": request.url.path,
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["content-security-policy"] = PAGE_CSP
    response.headers["cache-control"] = "no-store"  # pages show what this person may read
    _session.keep_csrf_cookie(request, response, csrf)
    return response


class PageRoute(APIRoute):
    """A page's errors are pages too: a sign-in redirect when the caller must sign in, and
    an HTML error page (with the service's status and message) for anything the service
    refuses, instead of the API's problem documents."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except _session.SignInRequired:
                target = quote(str(request.url.path) + (
                    f"?{request.url.query}" if request.url.query else ""), safe="")
                return RedirectResponse(f"/sign-in?next={target}", status_code=303)
            except ModelAtlasError as exc:
                return render(request, "error.html", {"error": exc}, status_code=exc.status)

        return page_handler
