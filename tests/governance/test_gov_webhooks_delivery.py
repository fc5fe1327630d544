"""Webhook delivery by the worker, to a real receiver on loopback (allowed for these
tests by MODELATLAS_WEBHOOK_ALLOW_PRIVATE): signed payloads the receiver verifies with the
SDK's helper, filtering by event type and namespace, retries with backoff driven by
``now`` (no sleeps), dead after the last attempt, and two workers delivering each event
once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from webhook_receiver import receiver

from modelatlas.client import SignatureInvalid, verify_signature
from modelatlas.config import Settings
from modelatlas.registry import AssetCreate, Registry
from modelatlas.registry.types import VersionRegistration


@pytest.fixture
def hooked(settings: Settings) -> Iterator[Registry]:
    """A registry whose operator allows private webhook targets, with a short schedule."""
    reg = Registry.open(settings.model_copy(update={
        "webhook_allow_private": True, "webhook_max_attempts": 3,
        "webhook_retry_seconds": "10,60"}))
    yield reg
    reg.close()


def _register(registry: Registry, namespace: str, name: str = "churn") -> None:
    registry.register_version(namespace, name, VersionRegistration())


def _next_due(registry: Registry, webhook_id: int) -> datetime:
    latest = registry.webhook_deliveries(webhook_id).items[0]
    return datetime.fromisoformat(latest.next_attempt_at.replace("Z", "+00:00"))


def test_a_delivery_is_signed_and_the_receiver_verifies_it(hooked: Registry) -> None:
    with receiver() as box:
        hook = hooked.create_webhook("fraud", {"url": box.url, "event_types": ["registered"],
                                               "allow_private": True})
        _register(hooked, "fraud")
        result = hooked.webhook_worker().step()
        assert (result.queued, result.delivered) == (1, 1)
        (got,) = box.received
    verify_signature(hook.secret, got.headers["X-ModelAtlas-Timestamp"], got.body,
                     got.headers["X-ModelAtlas-Signature"])
    event = json.loads(got.body)
    assert event["action"] == "model_version.registered"
    assert event["ref"] == "model_version:fraud/churn@1"
    assert got.headers["X-ModelAtlas-Event"] == "registered"
    delivery = hooked.webhook_deliveries(hook.id).items[0]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == \
        ("delivered", 1, 204)
    assert got.headers["X-ModelAtlas-Delivery"] == str(delivery.id)
    # a changed body, another secret or an old timestamp are refused
    with pytest.raises(SignatureInvalid):
        verify_signature(hook.secret, got.headers["X-ModelAtlas-Timestamp"],
                         got.body + b" ", got.headers["X-ModelAtlas-Signature"])
    with pytest.raises(SignatureInvalid):
        verify_signature("whsec_other", got.headers["X-ModelAtlas-Timestamp"], got.body,
                         got.headers["X-ModelAtlas-Signature"])
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify_signature(hook.secret, got.headers["X-ModelAtlas-Timestamp"], got.body,
                         got.headers["X-ModelAtlas-Signature"],
                         now=int(got.headers["X-ModelAtlas-Timestamp"]) + 301)


def test_only_subscribed_types_of_the_webhooks_namespace_are_sent(hooked: Registry) -> None:
    with receiver() as box:
        _register(hooked, "fraud", "before")  # before the webhook: not sent
        only = hooked.create_webhook("fraud", {"url": box.url, "event_types": ["registered"],
                                               "allow_private": True})
        everything = hooked.create_webhook("fraud", {"url": box.url + "?all",
                                                     "allow_private": True})
        _register(hooked, "fraud")
        _register(hooked, "other")  # another namespace
        hooked.create_asset(AssetCreate(ref="dataset:fraud/txns@1"))  # not subscribable
        worker = hooked.webhook_worker()
        worker.step()
        assert worker.step().queued == 0  # the cursor moved: nothing queued twice
        refs = {json.loads(r.body)["ref"] for r in box.received}
    assert refs == {"model_version:fraud/churn@1"}
    assert [d.event_type for d in hooked.webhook_deliveries(only.id).items] == ["registered"]
    # "*": the registration and the version_of link it made (provenance)
    assert sorted(d.event_type for d in hooked.webhook_deliveries(everything.id).items) == \
        ["provenance_changed", "registered"]


def test_a_failing_receiver_is_retried_with_backoff_then_succeeds(hooked: Registry) -> None:
    with receiver([500, 503]) as box:
        hook = hooked.create_webhook("fraud", {"url": box.url, "allow_private": True,
                                               "event_types": ["registered"]})
        _register(hooked, "fraud")
        worker = hooked.webhook_worker()
        start = datetime.now(UTC)
        assert worker.step(start).delivered == 0
        due = _next_due(hooked, hook.id)
        assert timedelta(seconds=10) <= due - start <= timedelta(seconds=12.5)
        assert worker.step(due - timedelta(seconds=1)).attempted == 0  # not yet due
        assert worker.step(due).delivered == 0  # 503
        failed = hooked.webhook_deliveries(hook.id).items[0]
        assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", 2, 503)
        later = _next_due(hooked, hook.id)
        assert timedelta(seconds=60) <= later - due <= timedelta(seconds=73)
        assert worker.step(later).delivered == 1
        assert len(box.received) == 3
    done = hooked.webhook_deliveries(hook.id).items[0]
    assert (done.status, done.attempts, done.last_error) == ("delivered", 3, None)


def test_a_delivery_is_dead_after_the_last_attempt(hooked: Registry) -> None:
    with receiver([500] * 5) as box:
        hook = hooked.create_webhook("fraud", {"url": box.url, "allow_private": True,
                                               "event_types": ["registered"]})
        _register(hooked, "fraud")
        worker, now = hooked.webhook_worker(), datetime.now(UTC)
        for _ in range(3):
            worker.step(now)
            now += timedelta(hours=1)
        assert worker.step(now + timedelta(days=1)).attempted == 0
        assert len(box.received) == 3
    dead = hooked.webhook_deliveries(hook.id).items[0]
    assert (dead.status, dead.attempts, dead.last_status_code) == ("dead", 3, 500)
    assert dead.last_error == "the receiver answered 500"


def test_two_workers_deliver_each_event_once(hooked: Registry) -> None:
    with receiver() as box:
        hook = hooked.create_webhook("fraud", {"url": box.url, "allow_private": True,
                                               "event_types": ["registered"]})
        for index in range(12):
            _register(hooked, "fraud", f"m{index}")
        workers = [hooked.webhook_worker() for _ in range(2)]
        barrier = threading.Barrier(2)

        def run(index: int) -> None:
            barrier.wait()
            for _ in range(3):
                workers[index].step()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        seqs = [json.loads(r.body)["seq"] for r in box.received]
    assert len(seqs) == 12 and len(set(seqs)) == 12
    log = hooked.webhook_deliveries(hook.id).items
    assert [d.status for d in log] == ["delivered"] * 12
    assert {d.attempts for d in log} == {1}


def test_a_private_target_is_refused_at_delivery_when_the_operator_forbids_it(
        hooked: Registry, settings: Settings) -> None:
    """The URL is checked again before each attempt: an operator who turns the setting
    off stops private deliveries at once."""
    with receiver() as box:
        hook = hooked.create_webhook("fraud", {"url": box.url, "allow_private": True,
                                               "event_types": ["registered"]})
        _register(hooked, "fraud")
        strict = Registry.open(settings.model_copy(update={"webhook_allow_private": False}))
        try:
            assert strict.webhook_worker().step().delivered == 0
        finally:
            strict.close()
        assert box.received == []
    failed = hooked.webhook_deliveries(hook.id).items[0]
    assert failed.status == "failed"
    assert "loopback" in (failed.last_error or "")
