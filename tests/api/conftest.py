"""The API under a real uvicorn server on a free loopback port, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.config import Settings
from modelatlas.registry import Registry


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small body limit, so an oversized request stays small enough for the loopback
    buffers (the server may answer 413 before the client has finished sending)."""
    return settings.model_copy(update={"max_body_bytes": 16 * 1024})


@pytest.fixture
def app(settings: Settings, registry: Registry) -> FastAPI:
    return create_app(settings, registry)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with running_server(app) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


