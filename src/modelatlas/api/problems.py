"""Every error leaves the API as one RFC 9457 ``application/problem+json`` document.

The shape is :meth:`ModelAtlasError.problem`: ``type``, ``title``, ``status``, ``detail``,
``code`` and ``errors: [{path, message}]``. Paths are JSON Pointers into the body
(``/metadata/row_count``) or name the request part (``query/limit``, ``path/ref``,
``header/if-match``). Request validation, unknown routes and unexpected failures are
translated into the same shape, so clients handle one format.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError, NotFound

logger = logging.getLogger("modelatlas.api")

PROBLEM_TYPE = "application/problem+json"
_PARTS = {"query", "path", "header", "cookie"}


class ProblemField(BaseModel):
    path: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem document (the ``code`` is ModelAtlas's stable error code)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemField]
    instance: str | None = None


# Declared on every route: documents the error shape and replaces FastAPI's default 422
# schema, which is not what this API answers.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "content": {PROBLEM_TYPE: {}}, "description": "Problem"},
}


class ProblemResponse(Response):
    media_type = PROBLEM_TYPE

    def render(self, content: Any) -> bytes:
        # ASCII escapes keep the document valid whatever a message quotes back.
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


def problem_response(error: ModelAtlasError, request_path: str | None = None) -> ProblemResponse:
    return ProblemResponse(error.problem(request_path), status_code=error.status)


class HTTPError(ModelAtlasError):
    """An HTTP-level failure with no error class of its own (404 route, 405): the code is the
    status phrase (``not_found``, ``method_not_allowed``)."""

    def __init__(self, status: int, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors=errors)
        phrase = HTTPStatus(status).phrase
        self.status = status
        self.title = phrase
        self.code = phrase.lower().replace(" ", "_").replace("-", "_")


def _pointer(parts: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _body_pointer(parts: tuple[Any, ...], body: Any, missing: bool) -> str:
    """Walk ``loc`` through the body, dropping what pydantic adds for union members
    (``/datasets/1/InlineAsset/ref`` -> ``/datasets/1/ref``): a part is kept when it names
    a key or index the body has, or the field an error says is missing."""
    kept: list[Any] = []
    node = body
    for index, part in enumerate(parts):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif not (missing and index == len(parts) - 1):
            continue
        kept.append(part)
    return _pointer(tuple(kept))


def _location(error: Mapping[str, Any], body: Any) -> str:
    """FastAPI's ``loc`` as this API's path: a JSON Pointer into the body, else
    ``query/limit`` style."""
    loc = tuple(error["loc"])
    if loc and loc[0] == "body":
        return _body_pointer(loc[1:], body, error.get("type") == "missing")
    if loc and loc[0] in _PARTS:
        return f"{loc[0]}/" + "/".join(str(p) for p in loc[1:])
    return _pointer(loc)


def _invalid(errors: list[FieldError], what: str) -> ModelAtlasError:
    summary = "; ".join(f"{e.path or '/'}: {e.message}" for e in errors[:5])
    return InvalidInput(f"{what} is invalid: {summary}", errors=errors)


async def _on_model_atlas_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ModelAtlasError)
    if exc.status >= 500:
        logger.error("server error on %s %s: %s", request.method, request.url.path, exc.detail)
    return problem_response(exc, request.url.path)


async def _on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(_location(e, exc.body), e["msg"]) for e in exc.errors()]
    return problem_response(_invalid(errors, "the request"), request.url.path)


async def _on_pydantic_validation(request: Request, exc: Exception) -> Response:
    # The service builds request models internally too; its input is still the user's.
    assert isinstance(exc, ValidationError)
    errors = [FieldError(_pointer(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
    return problem_response(_invalid(errors, "the request"), request.url.path)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error: ModelAtlasError = NotFound(f"no route {request.url.path}")
    else:
        error = HTTPError(exc.status_code, str(exc.detail))
    response = problem_response(error, request.url.path)
    if exc.headers:
        response.headers.update(exc.headers)  # e.g. Allow on 405
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(ModelAtlasError, _on_model_atlas_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(ValidationError, _on_pydantic_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_middleware(CatchAll)


class CatchAll:
    """Turns an unexpected exception into a 500 problem without internals (and logs it
    once), instead of Starlette's plain-text page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unexpected error on %s %s", scope.get("method"), scope["path"])
            if started:
                raise
            error = ModelAtlasError("the registry failed unexpectedly; the error is logged")
            await problem_response(error, scope["path"])(scope, receive, send)
