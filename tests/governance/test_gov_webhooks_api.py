"""Webhooks over the wire: the SSRF guard (422 at /url), the secret shown once and never
again (not in reads, not in events), admins only, and the server-sent-events stream read
over a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.config import Settings
from modelatlas.errors import Forbidden, InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry

PUBLIC = "https://93.184.216.34/hook"  # a public address: no DNS needed in the sandbox
MAY = Principal(kind="user", person="may")  # maintainer of fraud
ADA = Principal(kind="user", person="ada")  # admin of fraud


@pytest.fixture
def served(settings: Settings, registry: Registry) -> Iterator[tuple[str, Registry]]:
    for person, role in (("ada", "admin"), ("may", "maintainer")):
        registry.grant_role("fraud", {"principal_type": "user", "principal_name": person,
                                      "role": role})
    with running_server(create_app(settings, registry)) as url:
        yield url, registry


REFUSED = ["http://127.0.0.1/hook", "http://10.0.0.8/hook", "http://169.254.169.254/latest",
           "http://[::1]/hook", "http://localhost:8080/hook", "file:///etc/passwd",
           "http://user:pw@93.184.216.34/hook"]


def test_private_and_odd_targets_are_refused_at_url(registry: Registry) -> None:
    with running_server(create_app(registry.settings, registry)) as base:
        answers = [httpx.post(f"{base}/api/v1/namespaces/fraud/webhooks", json={"url": url})
                   for url in REFUSED]
    for url, answer in zip(REFUSED, answers, strict=True):
        assert answer.status_code == 422, (url, answer.text)
        assert [e["path"] for e in answer.json()["errors"]] == ["/url"], url
    assert registry.webhooks("fraud") == []


def test_allow_private_needs_the_operators_setting(registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="MODELATLAS_WEBHOOK_ALLOW_PRIVATE"):
        registry.create_webhook("fraud", {"url": "http://127.0.0.1/x", "allow_private": True})


def test_the_secret_is_shown_once_and_never_again(served: tuple[str, Registry]) -> None:
    base, _ = served
    with httpx.Client(base_url=f"{base}/api/v1") as http:
        created = http.post("/namespaces/fraud/webhooks",
                            json={"url": PUBLIC + "?token=abc", "event_types": ["deprecated"]})
        assert created.status_code == 201, created.text
        secret, hook_id = created.json()["secret"], created.json()["id"]
        assert secret.startswith("whsec_")
        patched = http.patch(f"/webhooks/{hook_id}", json={"description": "ops"})
        reads = [http.get("/namespaces/fraud/webhooks"), http.get(f"/webhooks/{hook_id}"),
                 patched, http.get(f"/webhooks/{hook_id}/deliveries"),
                 http.delete(f"/webhooks/{hook_id}"), http.get("/events")]
    assert [r.status_code for r in reads] == [200] * 6
    assert patched.json()["description"] == "ops"
    for answer in reads:
        assert secret not in answer.text
    actions = [e["action"] for e in reads[-1].json()["items"]]
    assert actions[-3:] == ["webhook.created", "webhook.updated", "webhook.deleted"]
    assert "token=abc" not in reads[-1].text  # events record the URL's origin only


def test_a_maintainer_cannot_create_or_read_webhooks(served: tuple[str, Registry]) -> None:
    _, registry = served
    hook = registry.create_webhook("fraud", {"url": PUBLIC}, principal=ADA)
    with pytest.raises(Forbidden):
        registry.create_webhook("fraud", {"url": PUBLIC}, principal=MAY)
    with pytest.raises(NotFound):
        registry.get_webhook(hook.id, principal=MAY)
    last = registry.events(after=0, limit=500).items
    assert [e.action for e in last[-2:]] == ["access.denied", "access.denied"]


def test_the_event_stream_sends_what_the_caller_may_see(
        served: tuple[str, Registry]) -> None:
    base, registry = served
    registry.create_asset(AssetCreate(ref="dataset:fraud/old@1"))
    start = registry.last_event_seq()
    registry.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))
    registry.create_asset(AssetCreate(ref="dataset:other/secret@1"))
    token = registry.create_token({"name": "ui"}, principal=MAY).token
    seen: list[dict[str, object]] = []
    headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": str(start)}
    with httpx.Client(base_url=base, timeout=10) as http, \
            http.stream("GET", "/api/v1/events/stream", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        ids = []
        for line in stream.iter_lines():
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                break  # one event read: close the stream (the server must notice)
    assert [e["ref"] for e in seen] == ["dataset:fraud/txns@1"]
    assert ids[0] > start
    # a bounded stream ends by itself and never shows the other team's asset
    answer = httpx.get(f"{base}/api/v1/events/stream", params={"after": start,
                                                                "max_seconds": 0.5},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert "dataset:fraud/txns@1" in answer.text
    assert "other/secret" not in answer.text
    bad = httpx.get(f"{base}/api/v1/events/stream", headers={"Last-Event-ID": "x"})
    assert bad.status_code == 422
