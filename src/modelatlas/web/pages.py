"""The front door and the session: home, sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from modelatlas.errors import ModelAtlasError
from modelatlas.web import session as _session
from modelatlas.web._render import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: ``//evil.example`` or ``https://...`` would make the
    sign-in form an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/")
def home(request: Request, principal: _session.PagePrincipal) -> Response:
    return render(request, "home.html")


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", {"next": _safe_next(next)})


@router.post("/sign-in", dependencies=_session.CSRF)
def sign_in(request: Request, token: Annotated[str, Form()] = "",
            next: Annotated[str, Form()] = "/") -> Response:
    target = _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    try:
        _session.sign_in(request, response, token.strip())
    except ModelAtlasError as exc:
        # the form again, with why (200: a browser logs any 4xx page as a console error)
        return render(request, "sign_in.html", {"next": target, "error": exc.detail})
    return response


@router.post("/sign-out", dependencies=_session.CSRF)
def sign_out() -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    _session.sign_out(response)
    return response
