"""The vocabulary on both backends: the registry with the default vocabulary loaded, and
the SDK over HTTP (a real uvicorn server) and in-process."""

from __future__ import annotations

import pytest

from modelatlas.registry import Registry


@pytest.fixture
def vocab(registry: Registry) -> Registry:
    """The registry with the default vocabulary."""
    assert registry.ensure_default_vocabulary() is not None
    return registry


