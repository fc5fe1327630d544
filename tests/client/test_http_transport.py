"""What only the HTTP transport does: retrying an idempotent POST, unreachable servers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelatlas.client import Client, quote_ref
from modelatlas.errors import InvalidRef, Unavailable


def test_post_with_idempotency_key_is_retried_once_after_a_lost_response(
    lossy_url: str, event_count: Callable[[], int]
) -> None:
    """The first response is lost after the server committed; the retry carries the same
    key, so the registry answers with the first result and writes nothing more."""
    with Client(lossy_url) as client:
        asset = client.assets.create("dataset:fin/tx@1", idempotency_key="k-1")
        assert asset.ref == "dataset:fin/tx@1"
    assert event_count() == 1


def test_post_without_key_is_not_retried(
    lossy_url: str, event_count: Callable[[], int]
) -> None:
    with Client(lossy_url) as client, pytest.raises(Unavailable, match="cannot reach"):
        client.assets.create("dataset:fin/tx@1")
    assert event_count() == 1  # written once, never twice


def test_unreachable_server_is_a_model_atlas_error() -> None:
    with Client("http://127.0.0.1:1", timeout=2) as client:
        with pytest.raises(Unavailable, match="cannot reach"):
            client.assets.get("dataset:fin/tx@1")


@pytest.mark.parametrize(
    ("ref", "path"),
    [
        ("dataset:fin/tx@1", "dataset:fin/tx@1"),
        ("model:fin/..", "model:fin/%2E%2E"),
        ("model:fin/caf\u00e9", "model:fin/caf%C3%A9"),
    ],
)
def test_refs_are_written_whole_in_paths(ref: str, path: str) -> None:
    assert quote_ref(ref) == path


def test_dot_names_survive_the_url(base_url: str) -> None:
    with Client(base_url) as client:
        created = client.assets.create("model:fin/..a..")
        assert client.assets.get("model:fin/..a..") == created
        assert [e.action for e in client.assets.history("model:fin/..a..").items] == [
            "asset.created"
        ]
        with pytest.raises(InvalidRef, match="only dots"):
            client.assets.create("model:fin/..")
