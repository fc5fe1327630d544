"""The ``modelatlas`` command line: Typer commands, one module per group, each a thin
layer over :class:`modelatlas.client.Client` (or the local registry for setup)."""

from modelatlas.cli import (
    access,
    alias,
    artifacts,
    attest,
    audit,
    browse,
    capture,
    demo,
    deprecate,
    deps,
    deps_impact,
    exports,
    import_card,
    import_catalog,
    import_deployments,
    import_feast,
    import_mlflow,
    imports,
    keys,
    lifecycle,
    lineage,
    lineage_change,
    link,
    policy_check,
    provenance,
    reconcile,
    register,
    search,
    setup,
    suggest,
    taxonomy,
    tokens,
    webhooks,
)
from modelatlas.cli._app import app

__all__ = ["app", "main"]

# imported for their @app.command()s
_COMMANDS = (access, artifacts, attest, audit, browse, capture, demo, deprecate, deps, deps_impact,
             lineage, link, provenance, reconcile, register, search, setup, suggest, taxonomy,
             tokens, webhooks,
             lifecycle,
             alias, lineage_change,
             keys,
             imports, import_catalog, policy_check,
             import_card, import_deployments, exports,
             import_mlflow, import_feast)


def main() -> None:
    """Entry point of the ``modelatlas`` script."""
    app()
