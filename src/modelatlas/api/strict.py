"""Strict request bodies, and the ``{ref:ref}`` path converter.

FastAPI decodes bodies with :func:`json.loads` (duplicate keys: last wins; ``NaN``;
lone surrogates; unbounded nesting) and reads them whole. :class:`StrictJSONRoute` reads
the body first, counting bytes against ``max_body_bytes`` (413 before anything
unbounded is held), decodes it with :func:`modelatlas.jsonsafe.loads`, and leaves the
result where FastAPI looks for it (``Request._body`` / ``Request._json``, which
``Request.body()`` and ``Request.json()`` return when set). The pydantic body models stay
in the route signatures, so validation and the OpenAPI document are FastAPI's own.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from modelatlas.api._deps import get_principal
from modelatlas.config import Settings
from modelatlas.errors import FieldError, MalformedBody, PayloadTooLarge
from modelatlas.jsonsafe import loads

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class RefConvertor(Convertor[str]):
    """A whole ref in a path: ``kind:namespace/name@version`` has exactly one ``/``, so
    ``/assets/{ref:ref}/history`` cannot swallow an asset that is named ``history``."""

    regex = r"[^/]+/[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("ref", RefConvertor())


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body exceeds {limit} bytes",
        errors=[FieldError("", f"at most {limit} bytes")],
    )


def _check_json_media(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise MalformedBody(
            "send the body as JSON with Content-Type: application/json",
            errors=[FieldError("header/content-type", "must be application/json")],
        )


def _check_length(request: Request, limit: int) -> None:
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise MalformedBody(
                "Content-Length is not a number",
                errors=[FieldError("header/content-length", "not a number")],
            )
        if int(length) > limit:
            raise _too_large(limit)


async def read_limited(request: Request, settings: Settings) -> bytes:
    """The whole body, refused (413) past ``max_body_bytes`` whatever the headers say."""
    limit = settings.max_body_bytes
    _check_length(request, limit)
    chunks: list[bytes] = []
    size = 0
    # The declared length can lie (or be absent with chunked encoding): count as we read.
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes, settings: Settings) -> Any:
    """Strict JSON (modelatlas.jsonsafe), or a 400 saying why not."""
    try:
        return loads(body, max_depth=settings.max_json_depth)
    except ValueError as exc:  # e.g. an integer literal past Python's digit limit
        raise MalformedBody(
            f"body is not acceptable JSON: {exc}", errors=[FieldError("", "not acceptable")]
        ) from None


async def read_strict_json(request: Request, settings: Settings) -> None:
    """Read and strictly decode the body once; FastAPI then validates the cached value."""
    _check_json_media(request)
    body = await read_limited(request, settings)
    request._body = body
    if not body:
        return  # FastAPI reports the missing body as a validation error
    request._json = decode_json(body, settings)


def refuse_nul(value: Any, where: str = "") -> None:
    """Refuse U+0000 anywhere: PostgreSQL cannot store it in text or JSONB (SQLite can),
    so accepting it would make the backends disagree and fail late with a 500."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str) and "\x00" in node:
            raise MalformedBody(
                "a string holds U+0000 (NUL), which the registry cannot store",
                errors=[FieldError(path, "NUL character")],
            )
        if isinstance(node, dict):
            stack += [(k, path) for k in node]
            stack += [(v, f"{path}/{k}") for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, f"{path}/{i}") for i, v in enumerate(node)]


def _check_url(request: Request) -> None:
    refuse_nul(request.scope["path"], "path")
    for key, value in request.query_params.multi_items():
        refuse_nul(key, "query")
        refuse_nul(value, f"query/{key}")


class StrictJSONRoute(APIRoute):
    """An APIRoute whose URL is checked and whose JSON body goes through
    :func:`read_strict_json` before FastAPI sees either."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        has_body = self.body_field is not None

        async def strict_handler(request: Request) -> Response:
            _check_url(request)
            if has_body:
                # Who is calling comes before what they sent: an anonymous caller gets
                # 401, not a verdict on a body nobody may send.
                request.state.principal = await run_in_threadpool(get_principal, request)
                await read_strict_json(request, request.app.state.settings)
                refuse_nul(request._json if request._body else None)
            return await handler(request)

        return strict_handler
