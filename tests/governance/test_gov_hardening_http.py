"""Hardening over a real server: security headers on every answer, strict CORS, no
cross-site form posts, a path traversal matrix over every route that takes a ref, a
namespace or a name in its path, metadata URIs refused at registration, and an internal
failure answered without internals."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.config import Settings
from modelatlas.errors import InvalidInput
from modelatlas.registry import Registry, VersionRegistration
from routes import walk_routes

API = "/api/v1"
SHA = "ab" * 32
ORIGIN = "https://ui.example.com"
# Each replaces one path parameter; none may answer anything but a 4xx problem.
EVIL = ["..", "%2e%2e", "%2E%2e", "%252e%252e", ".%2e", "..%2f..%2fetc%2fpasswd",
        "%2e%2e%5c%2e%2e%5cetc", "..;", "x;%2f..%2f..%2fetc", "%23%2f..%2f..", "x%23..",
        "%2fetc%2fpasswd", "%00", "a%00b", "%0d%0aX-Evil:%201", "x" * 3000, "..%252f"]
# A model may be named ".." (refs.py allows dots-only names; the SDK escapes them, see
# tests/client/test_http_transport.py): a list route for it answers an empty page.
# Found by this matrix, owned elsewhere: a missing version answers 500 (NoResultFound in
# registry/_lifecycle.py, issue 7 item 3) instead of 404. Remove when fixed.
LEAKS = re.compile(r"Traceback|File \"|sqlalchemy|SELECT |psycopg|sqlite3|root:x:0|/tmp/")


@pytest.fixture
def served(settings: Settings, registry: Registry) -> Iterator[str]:
    registry.register_version("fraud", "churn", VersionRegistration(metadata={"artifacts": [
        {"uri": "s3://m/model.bin", "sha256": SHA, "size": 3, "name": "model.bin"}]}))
    cors = settings.model_copy(update={"cors_origins": ORIGIN})
    with running_server(create_app(cors, registry)) as url:
        yield url


def _raw(url: str, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Send ``path`` byte for byte (httpx would normalise dot segments away)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return (answer.status, {k.lower(): v for k, v in answer.getheaders()},
                answer.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def _templates(settings: Settings, registry: Registry) -> list[tuple[str, str]]:
    app = create_app(settings, registry)
    return [(m, p) for m, p in walk_routes(app.routes)
            if m in ("GET", "PUT") and re.search(r"\{(ref|namespace|name)(:\w+)?\}", p)]


def _fill(path: str, evil_param: str, evil: str) -> str:
    fillers = {"ref": "model_version:fraud/churn@1", "namespace": "fraud", "version": "1",
               "name": "churn" if "/artifacts/" not in path else "model.bin"}

    def one(match: re.Match[str]) -> str:
        return evil if match[1] == evil_param else fillers.get(match[1], "x")

    return re.sub(r"\{(\w+)(:\w+)?\}", one, path)


def test_traversal_matrix_answers_4xx_and_writes_nothing(
        served: str, settings: Settings, registry: Registry, tmp_path: Path) -> None:
    before = sorted(p for p in tmp_path.rglob("*") if "artifacts" not in p.parts)
    templates = _templates(settings, registry)
    assert any("/artifacts/" in p for _, p in templates) and len(templates) > 10
    bad = []
    for method, template in templates:
        for param in re.findall(r"\{(ref|namespace|name)(?::\w+)?\}", template):
            for evil in EVIL:
                path = _fill(template, param, evil)
                body = b"abc" if method == "PUT" else None
                status, headers, text = _raw(served, method, path, body,
                                             {"content-type": "application/octet-stream"})
                if not (400 <= status < 500 and "problem+json" in headers["content-type"]
                        and not LEAKS.search(text)):
                    bad.append((method, path[:120], status, text[:160]))
    assert bad == [], "\n".join(map(str, bad))
    after = sorted(p for p in tmp_path.rglob("*") if "artifacts" not in p.parts)
    assert after == before  # only the registry's own files (a SQLite database and its WAL)
    assert not [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]


def test_metadata_uris_are_refused_at_registration(served: str) -> None:
    uris = ["javascript:alert(1)", "file:///etc/..%2fpasswd", "s3://b/%252e%252e/x",
            "s3://b/x#/../../y", "file:///srv/a;/../../etc", "/etc/passwd",
            "https://user:pw@h/x", "s3://b/a%00"]
    with httpx.Client(base_url=served + API) as client:
        for uri in uris:
            answer = client.post("/models/fraud/churn/versions", json={"metadata": {
                "artifacts": [{"uri": uri, "sha256": SHA, "size": 1}]}})
            assert answer.status_code == 422, (uri, answer.text)
            assert answer.json()["errors"][0]["path"] == "/metadata/artifacts/0/uri", uri


def test_security_headers_cors_and_forms(served: str) -> None:
    with httpx.Client(base_url=served) as client:
        ok = client.get(f"{API}/assets")
        missing = client.get(f"{API}/nowhere")
        docs = client.get("/docs")
        allowed = client.get(f"{API}/assets", headers={"origin": ORIGIN})
        other = client.get(f"{API}/assets", headers={"origin": "https://evil.example"})
        preflight = client.options(f"{API}/assets", headers={
            "origin": ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"})
        refused = client.options(f"{API}/assets", headers={
            "origin": "https://evil.example", "access-control-request-method": "POST"})
        form = client.post(f"{API}/assets", content=b"ref=dataset%3Afraud%2Fx%401",
                           headers={"origin": "https://evil.example",
                                    "content-type": "application/x-www-form-urlencoded"})
        plain = client.post(f"{API}/assets", content=b'{"ref": "dataset:fraud/x@1"}',
                            headers={"content-type": "text/plain"})
    for answer in (ok, missing, docs, allowed, preflight, form):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cross-origin-resource-policy"] == "same-origin"
        assert "strict-transport-security" not in answer.headers  # plain http
    assert ok.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert "access-control-allow-origin" not in ok.headers
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-credentials" not in allowed.headers
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in refused.headers
    assert form.status_code == plain.status_code == 400  # a form cannot write


def test_hsts_and_cors_settings(settings: Settings, registry: Registry) -> None:
    for origins in ("*", "https://a.example/", "https://*.example", "ftp://a.example"):
        with pytest.raises(InvalidInput, match="CORS"):
            create_app(settings.model_copy(update={"cors_origins": origins}), registry)
    app = create_app(settings.model_copy(update={"hsts": True}), registry)
    with running_server(app) as url, httpx.Client(base_url=url) as client:
        answer = client.get("/healthz")
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        assert "access-control-allow-origin" not in client.get(
            "/healthz", headers={"origin": ORIGIN}).headers  # no origins configured


def test_an_internal_failure_leaks_nothing(served: str, registry: Registry) -> None:
    """A real fault, not a mock: the table downloads read is gone."""
    with registry.db.write() as conn:
        conn.execute(sa.text("DROP TABLE stored_artifacts"))
    with httpx.Client(base_url=served + API) as client:
        answer = client.get("/artifacts/model_version:fraud/churn@1/model.bin")
    assert answer.status_code >= 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert not LEAKS.search(answer.text) and "stored_artifacts" not in answer.text
    assert set(answer.json()) >= {"type", "title", "status", "detail"}
