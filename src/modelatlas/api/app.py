"""The FastAPI application: thin routers over the service layer.

Run it with ``uvicorn --factory modelatlas.api:create_app`` (settings from
``MODELATLAS_*``) or build it around an open :class:`Registry` in tests and embeddings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modelatlas import web
from modelatlas.api import (
    access,
    aliases,
    artifacts,
    assets,
    attestations,
    audit,
    cards,
    deprecations,
    deps,
    event_stream,
    events,
    impact,
    integrations,
    lifecycle,
    lineage,
    lineage_changes,
    models,
    namespaces,
    openlineage,
    problems,
    provenance,
    relations,
    runs,
    search,
    security,
    sensitive,
    suggest,
    taxonomy,
    tokens,
    webhooks,
    withdrawal,
)
from modelatlas.api._deps import API_PREFIX, AUTHENTICATED, RegistryDep, install_auth
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.config import Settings
from modelatlas.errors import Unavailable
from modelatlas.governance.authn import check_settings
from modelatlas.registry import Registry


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    """The API over ``registry`` (opened from ``settings`` when not given; an app that
    opened its registry closes it on shutdown)."""
    owned = registry is None
    if registry is None:
        check_settings(settings or Settings())  # fail closed before opening anything
        registry = Registry.open(settings or Settings())
    settings = settings or registry.settings
    open_registry = registry
    check_settings(settings)
    registry.check_authentication()
    registry.check_data_keys()  # sealed values and no key to open them: refuse to start

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # `modelatlas serve` (an app that opened its registry) delivers webhooks too
        with open_registry.webhooks_in_background(owned and settings.webhook_worker):
            yield
        if owned:
            open_registry.close()

    app = FastAPI(
        title="ModelAtlas",
        summary="A metadata-enriched model registry: a living map of an organisation's models.",
        version="1",
        lifespan=lifespan,
        # with authentication required, the OpenAPI document is served behind it below
        # and the browser pages (which cannot send a bearer token) are not served
        openapi_url=None if settings.auth_required else "/openapi.json",
        docs_url=None if settings.auth_required else "/docs",
        redoc_url=None if settings.auth_required else "/redoc",
    )
    app.state.registry = registry
    app.state.settings = settings
    problems.install(app)
    install_auth(app)
    security.install(app, settings)  # outermost: every answer carries the headers
    # suggest and cards before assets: its {ref:path} routes would take .../related, .../card
    for module in (suggest, cards, assets, models, relations, events, namespaces, search,
                   taxonomy, deps, impact, openlineage, provenance, lineage, withdrawal,
                   attestations, audit, runs, tokens, access, artifacts, deprecations,
                   webhooks, event_stream, sensitive,
                   aliases, lineage_changes,
                   lifecycle,
                   integrations):
        app.include_router(module.router, prefix=API_PREFIX, dependencies=AUTHENTICATED)
    _add_health(app)
    web.install(app)  # the UI's pages at / (authenticated by its own session cookie)
    return app


def _add_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: the database answers",
             responses={503: PROBLEM_RESPONSES["4XX"]}, dependencies=AUTHENTICATED)
    def readyz(registry: RegistryDep) -> dict[str, str]:
        try:
            registry.ping()
        except Exception as exc:
            problems.logger.warning("readiness check failed: %s", exc)
            raise Unavailable("the database does not answer") from None
        return {"status": "ready"}

    if app.openapi_url is None:
        @app.get("/openapi.json", include_in_schema=False, dependencies=AUTHENTICATED)
        def openapi() -> dict[str, object]:
            return app.openapi()
