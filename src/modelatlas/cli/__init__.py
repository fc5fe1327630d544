"""The ``modelatlas`` command line: Typer commands, one module per group, each a thin
layer over :class:`modelatlas.client.Client` (or the local registry for setup)."""

from modelatlas.cli import (
    attest,
    audit,
    browse,
    capture,
    demo,
    deps,
    deps_impact,
    lineage,
    link,
    provenance,
    reconcile,
    register,
    search,
    setup,
    suggest,
    taxonomy,
)
from modelatlas.cli._app import app

__all__ = ["app", "main"]

# imported for their @app.command()s
_COMMANDS = (attest, audit, browse, capture, demo, deps, deps_impact, lineage, link, provenance,
             reconcile, register, search, setup, suggest, taxonomy)


def main() -> None:
    """Entry point of the ``modelatlas`` script."""
    app()
