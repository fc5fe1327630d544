"""``/events/stream``: the event feed as server-sent events, for the UI.

Each event the caller may see is sent as ``id: <seq>`` and ``data: <the event as JSON>``; a
comment line is sent every 15 s when nothing happens, so proxies keep the connection. The
stream resumes after ``Last-Event-ID`` (what a browser's EventSource sends on reconnect) or
``?after=``, else starts at the newest event. It polls the database (so it sees events any
API process commits) and holds no connection between polls; a closed client ends it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.errors import InvalidInput
from modelatlas.governance import Principal
from modelatlas.registry import Registry

MAX_SEQ = 2**63 - 1
HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 1.0

router = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)


@router.get(
    "/events/stream", response_class=StreamingResponse,
    summary="Server-sent events: each new event the caller may see",
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "an endless text/event-stream"}},
)
async def event_stream(
    request: Request,
    registry: RegistryDep,
    principal: PrincipalDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description=(
        "resume after this sequence number (default: the newest event)"))] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    max_seconds: Annotated[float | None, Query(gt=0, le=86_400, description=(
        "close the stream after this long (scripts; browsers reconnect)"))] = None,
) -> StreamingResponse:
    with located(query=("after",)):
        start = _start(after, last_event_id)
        if start is None:
            start = await run_in_threadpool(registry.last_event_seq)
        # checked before the stream starts, so a refusal is a problem document, not a stream
        await run_in_threadpool(registry.events, after=start, limit=1, principal=principal)
    return StreamingResponse(
        _events(request, registry, principal, start, max_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _start(after: int | None, last_event_id: str | None) -> int | None:
    if last_event_id is not None and last_event_id.strip():
        text = last_event_id.strip()
        if not text.isdigit() or int(text) > MAX_SEQ:
            raise InvalidInput.at("/Last-Event-ID", "an event's sequence number")
        return int(text)
    return after


async def _events(request: Request, registry: Registry, principal: Principal, after: int,
                  max_seconds: float | None) -> AsyncIterator[str]:
    started = time.monotonic()
    beat = started + HEARTBEAT_SECONDS
    yield "retry: 3000\n: connected\n\n"
    while not await request.is_disconnected():
        found, after = await run_in_threadpool(registry.stream_events, after,
                                               principal=principal)
        for event in found:
            yield f"id: {event.seq}\ndata: {json.dumps(event.model_dump(mode='json'))}\n\n"
        now = time.monotonic()
        if found:
            beat = now + HEARTBEAT_SECONDS
        elif now >= beat:
            yield ": keep-alive\n\n"
            beat = now + HEARTBEAT_SECONDS
        if max_seconds is not None and now - started >= max_seconds:
            return
        if len(found) < 100:  # a full page: more is waiting, read it at once
            await anyio.sleep(POLL_SECONDS)
