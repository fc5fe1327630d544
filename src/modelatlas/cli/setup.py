"""``init`` and ``serve``: set up a registry home and run the API over it."""

from __future__ import annotations

import os

import typer

from modelatlas.cli._app import app
from modelatlas.cli._common import HomeOption, handles_errors, open_registry, settings_for


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
    uvicorn.run("modelatlas.api:create_app", factory=True, host=host, port=port,
                log_level=log_level)
