"""What every router shares: the registry, the caller, paging, and error locations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from modelatlas.config import Settings
from modelatlas.errors import FieldError, ModelAtlasError
from modelatlas.registry import Registry

API_PREFIX = "/api/v1"


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_actor(request: Request) -> str:
    """Who is writing. Until authentication lands, the server's configured actor."""
    return get_settings(request).actor


RegistryDep = Annotated[Registry, Depends(get_registry)]
ActorDep = Annotated[str, Depends(get_actor)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", min_length=1, max_length=200,
        description="retrying a POST with the same key returns the first result",
    ),
]


def page_limit(default: int) -> Callable[..., int]:
    """A ``limit`` query parameter, capped at ``settings.page_limit_max``."""

    def limit_param(
        request: Request,
        limit: int = Query(default, ge=1, description="page size (capped by the server)"),
    ) -> int:
        return min(limit, get_settings(request).page_limit_max)

    return limit_param


@contextmanager
def located(
    *, path: tuple[str, ...] = (), query: tuple[str, ...] = (), **renames: str
) -> Iterator[None]:
    """The service names every field as a body pointer (``/cursor``); when the field came
    from the path or the query string, say so (``query/cursor``)."""
    where = {f"/{name}": f"path/{name}" for name in path}
    where.update({f"/{name}": f"query/{name}" for name in query})
    where.update({f"/{old}": new for old, new in renames.items()})
    try:
        yield
    except ModelAtlasError as exc:
        exc.errors = [FieldError(where.get(e.path, e.path), e.message) for e in exc.errors]
        raise
