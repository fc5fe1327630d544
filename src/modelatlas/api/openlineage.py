"""``POST /lineage``: OpenLineage events in, exactly as the OpenLineage HTTP transports send
them (one JSON event per POST, ``Content-Type: application/json``, optionally
``Content-Encoding: gzip``), plus batches (a JSON array) there and at ``/lineage/batch``."""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from modelatlas.api._deps import PrincipalDep, RegistryDep, get_settings
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute, decode_json, read_limited
from modelatlas.config import Settings
from modelatlas.errors import FieldError, MalformedBody, PayloadTooLarge
from modelatlas.lineage.openlineage import plain_body
from modelatlas.registry import OpenLineageIngest

router = APIRouter(route_class=StrictJSONRoute, tags=["lineage"], responses=PROBLEM_RESPONSES)

_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "description": "an OpenLineage event (RunEvent, DatasetEvent or JobEvent, "
                           "https://openlineage.io/spec/) or a JSON array of them",
            "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
        }}},
    }
}


def _gunzip(body: bytes, limit: int) -> bytes:
    """Inflate a gzip body, refusing (413) past ``limit`` bytes inflated: a small body must
    not become a large one in memory."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise MalformedBody(f"body is not valid gzip: {exc}",
                            errors=[FieldError("header/content-encoding", "bad gzip")]) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"inflated request body exceeds {limit} bytes",
                              errors=[FieldError("", f"at most {limit} bytes inflated")])
    if not inflater.eof:
        raise MalformedBody("gzip body is truncated",
                            errors=[FieldError("header/content-encoding", "truncated gzip")])
    return data


async def _events(request: Request, settings: Settings) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise MalformedBody("send OpenLineage events as JSON (Content-Type: application/json)",
                            errors=[FieldError("header/content-type", "must be application/json")])
    body = await read_limited(request, settings)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        body = _gunzip(body, settings.max_body_bytes)
    elif encoding not in ("", "identity"):
        raise MalformedBody(f"Content-Encoding {encoding!r} is not supported; send gzip or none",
                            errors=[FieldError("header/content-encoding", "gzip or identity")])
    if not body:
        raise MalformedBody("the body is empty: send an OpenLineage event",
                            errors=[FieldError("", "empty body")])
    # strict decoding refuses U+0000 too (jsonsafe.check_tree): no second walk for it.
    # Its Python walk cost more than the event's validation and mapping together: a body
    # the C-speed screen finds plainly acceptable skips it (same value, same verdict)
    plain, events = plain_body(body, settings.max_json_depth)
    return events if plain else decode_json(body, settings)


@router.post("/lineage", response_model=OpenLineageIngest, openapi_extra=_BODY,
             summary="Ingest OpenLineage events (one, or a JSON array)")
async def ingest(request: Request, registry: RegistryDep,
                 principal: PrincipalDep) -> OpenLineageIngest:
    events = await _events(request, get_settings(request))
    # the service call blocks on the database: off the event loop, as sync routes run.
    # One event per POST is what the OpenLineage transports send: concurrent ones share
    # a commit (grouped), each answered after it.
    return await run_in_threadpool(registry.ingest_openlineage, events, principal=principal,
                                   grouped=True)


@router.post("/lineage/batch", response_model=OpenLineageIngest, openapi_extra=_BODY,
             summary="Ingest a batch of OpenLineage events (a JSON array)")
async def ingest_batch(
    request: Request, registry: RegistryDep, principal: PrincipalDep
) -> OpenLineageIngest:
    events = await _events(request, get_settings(request))
    if not isinstance(events, list):
        events = [events]
    return await run_in_threadpool(registry.ingest_openlineage, events, principal=principal)
