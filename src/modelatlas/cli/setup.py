"""``init`` and ``serve``: set up a registry home and run the API over it."""

from __future__ import annotations

import gc
import ipaddress
import os

import typer

from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    fail,
    handles_errors,
    open_registry,
    settings_for,
)
from modelatlas.config import Settings
from modelatlas.errors import ModelAtlasError
from modelatlas.governance.authn import check_settings


@app.command()
@handles_errors
def init(home: HomeOption = None) -> None:
    """Create the registry home and bring its database to the latest schema."""
    settings = settings_for(home)
    settings.home.mkdir(parents=True, exist_ok=True)
    registry = open_registry(home)
    try:
        where = registry.db.url.render_as_string(hide_password=True)
        loaded = registry.ensure_default_vocabulary()
    finally:
        registry.close()
    typer.echo(f"registry ready at {settings.home.resolve()} (database {where})")
    if loaded is not None:
        typer.echo(f"default vocabulary loaded: {loaded.terms} terms, {loaded.synonyms} synonyms")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8080, min=1, max=65535, help="Port to listen on."),
    home: HomeOption = None,
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Serve the REST API (and its OpenAPI document at /docs) over the local registry."""
    import uvicorn

    if home is not None:
        # The app factory reads its settings from the environment, in this process.
        os.environ["MODELATLAS_HOME"] = str(home)
    check_serve(host, settings_for(home))
    _settle_heap()
    uvicorn.run("modelatlas.api:create_app", factory=True, host=host, port=port,
                log_level=log_level)


def _settle_heap() -> None:
    """Move what start-up allocated (every imported module: SQLAlchemy, pydantic, FastAPI)
    out of the cyclic collector's sight. Otherwise each full collection walks those
    hundreds of thousands of long-lived objects again: about a quarter of the CPU of a
    large OpenLineage batch (bench/openlineage_bench.py). Then collect the young less
    often (:data:`SERVER_GC_THRESHOLD`)."""
    import modelatlas.api  # noqa: F401  (the app's modules, loaded before freezing)

    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLD)


# A request allocates thousands of short-lived containers (a parsed event, its rows and
# models); at the default 700 the youngest generation is collected several times per
# request, each time re-examining what the request still holds. At 20,000 young
# collections run a few times per batch rather than per request: sustained OpenLineage
# ingestion went from ~1,100 to ~1,300 events per CPU-second. The price is at most a few
# MB of cyclic garbage held a little longer, which a server can afford; the library leaves
# the thresholds of the programs that import it alone.
SERVER_GC_THRESHOLD = (20_000, 20, 20)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def check_serve(host: str, settings: Settings) -> None:
    """Refuse to start half-protected: a broken authentication configuration stops
    ``serve``, and listening beyond loopback needs ``MODELATLAS_AUTH_REQUIRED=true``
    (otherwise anyone who can reach the port acts as the local user)."""
    try:
        check_settings(settings)
    except ModelAtlasError as exc:
        raise fail(exc.diagnosis()) from None
    if not is_loopback(host) and not settings.auth_required:
        raise fail(f"refusing to listen on {host} without authentication: set "
                   "MODELATLAS_AUTH_REQUIRED=true (and create a token with `modelatlas "
                   "tokens create`, or configure MODELATLAS_OIDC_ISSUER), or serve on "
                   "127.0.0.1")
