"""The vocabulary on both backends: the registry with the default vocabulary loaded, and
the SDK over HTTP (a real uvicorn server) and in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.registry import Registry


@pytest.fixture
def vocab(registry: Registry) -> Registry:
    """The registry with the default vocabulary."""
    assert registry.ensure_default_vocabulary() is not None
    return registry


@pytest.fixture
def base_url(settings: Settings, registry: Registry) -> Iterator[str]:
    with running_server(create_app(settings, registry)) as url:
        yield url


@pytest.fixture(params=["http", "local"])
def client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Client]:
    if request.param == "http":
        made = Client(request.getfixturevalue("base_url"))
    else:
        made = Client.local(settings.home, database_url=settings.database_url, actor="tester")
    with made:
        yield made
