"""``modelatlas import ...``: bring metadata in from other systems (one command module per
source registers itself on :data:`import_app`)."""

from __future__ import annotations

import typer

from modelatlas.cli._app import app

__all__ = ["import_app"]

import_app = typer.Typer(name="import", no_args_is_help=True,
                         help="Import or reconcile metadata from other systems.")
app.add_typer(import_app)
