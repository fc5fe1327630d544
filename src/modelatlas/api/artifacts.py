"""Artifact bytes of a model version: ``PUT`` to upload (streamed, size-limited, hashed and
checked against the metadata's SHA-256), ``GET`` to download as an attachment.

A download is always ``application/octet-stream`` (never a type guessed from the name),
``Content-Disposition: attachment`` with a sanitised file name, ``nosniff`` and a CSP that
allows nothing and sandboxes the document, so a browser never renders or runs what was
uploaded. The server never deserialises an artifact (no pickle, no YAML): it hashes bytes.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from modelatlas.api._deps import PrincipalDep, RegistryDep, get_settings, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.errors import FieldError, MalformedBody, PayloadTooLarge
from modelatlas.registry.artifact_types import StoredArtifact

router = APIRouter(route_class=StrictJSONRoute, tags=["artifacts"], responses=PROBLEM_RESPONSES)

_PATH = "/artifacts/{ref:ref}/{name}"
ARTIFACT_CSP = "default-src 'none'; sandbox"
_UNSAFE_ASCII = re.compile(r'[^A-Za-z0-9._ -]')
_UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


def _check_upload_headers(request: Request, limit: int) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/octet-stream":
        # also what keeps a cross-site form (urlencoded, multipart, text/plain) out
        raise MalformedBody("send the artifact as Content-Type: application/octet-stream",
                            errors=[FieldError("header/content-type",
                                               "must be application/octet-stream")])
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise PayloadTooLarge(f"artifact exceeds {limit} bytes (MODELATLAS_MAX_ARTIFACT_BYTES)",
                              errors=[FieldError("header/content-length",
                                                 f"at most {limit} bytes")])


@router.put(_PATH, response_model=StoredArtifact, status_code=status.HTTP_201_CREATED,
            openapi_extra=_UPLOAD_BODY,
            summary="Upload the bytes of an artifact the model version's metadata lists")
async def upload_artifact(ref: str, name: str, request: Request, registry: RegistryDep,
                          principal: PrincipalDep) -> StoredArtifact:
    with located(path=("ref", "name")):
        # who asks, and for what, before what they sent (as api/strict.py does)
        upload = await run_in_threadpool(registry.begin_artifact_upload, ref, name,
                                         principal=principal)
        try:
            _check_upload_headers(request, get_settings(request).max_artifact_bytes)
            async for chunk in request.stream():
                if chunk:
                    await run_in_threadpool(upload.write, chunk)
        except BaseException:
            upload.abort()
            raise
        return await run_in_threadpool(upload.finish)


@router.get(_PATH, response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "the artifact's bytes, as an attachment"}},
            summary="Download an artifact's bytes (always as an attachment)")
def download_artifact(ref: str, name: str, registry: RegistryDep,
                      principal: PrincipalDep) -> FileResponse:
    with located(path=("ref", "name")):
        stored, path = registry.open_artifact(ref, name, principal=principal)
    digest = base64.b64encode(bytes.fromhex(stored.sha256)).decode()
    headers = {
        "Content-Disposition": content_disposition(stored.name),
        "Content-Security-Policy": ARTIFACT_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private",
        "Repr-Digest": f"sha-256=:{digest}:",
        "ETag": f'"sha256:{stored.sha256}"',
    }
    return FileResponse(path, media_type="application/octet-stream", headers=headers)


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` (anything else replaced by ``_``; quotes,
    backslashes and control characters never reach the header) and the exact name as RFC
    5987 ``filename*`` (RFC 6266)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = _UNSAFE_ASCII.sub("_", ascii_name).strip(" .") or "artifact"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
