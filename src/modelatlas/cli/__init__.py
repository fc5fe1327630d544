"""The ``modelatlas`` command line: Typer commands, one module per group, each a thin
layer over :class:`modelatlas.client.Client` (or the local registry for setup)."""

from modelatlas.cli import (
    access,
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
    tokens,
)
from modelatlas.cli._app import app

__all__ = ["app", "main"]

# imported for their @app.command()s
_COMMANDS = (access, attest, audit, browse, capture, demo, deps, deps_impact, lineage, link,
             provenance, reconcile, register, search, setup, suggest, taxonomy, tokens)


def main() -> None:
    """Entry point of the ``modelatlas`` script."""
    app()
