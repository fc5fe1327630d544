"""The session: sign-in and sign-out (the front page is the search page, web/search.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from modelatlas.errors import ModelAtlasError
from modelatlas.web import oidc
from modelatlas.web import session as _session
from modelatlas.web._render import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", {"next": _session.safe_next(next)})


@router.post("/sign-in", dependencies=_session.CSRF)
def sign_in(request: Request, token: Annotated[str, Form()] = "",
            next: Annotated[str, Form()] = "/") -> Response:
    target = _session.safe_next(next)
    response = RedirectResponse(target, status_code=303)
    try:
        _session.sign_in(request, response, token.strip())
    except ModelAtlasError as exc:
        # the form again, with why (200: a browser logs any 4xx page as a console error)
        return render(request, "sign_in.html", {"next": target, "error": exc.detail})
    return response


@router.post("/sign-out", dependencies=_session.CSRF)
def sign_out(request: Request) -> Response:
    # a session the identity provider began ends there too (web/oidc.py)
    response = (oidc.end_session(request, request.cookies.get(_session.SESSION_COOKIE))
                or RedirectResponse("/sign-in", status_code=303))
    _session.sign_out(response)
    return response
