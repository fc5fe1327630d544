"""``modelatlas deps``: what model versions require, whether an environment satisfies them,
one environment for several, and what a change would break."""

from __future__ import annotations

import typer

from modelatlas.cli._app import app

deps_app = typer.Typer(
    name="deps", no_args_is_help=True,
    help="Dependencies: show, check, resolve, impact, why.",
)
app.add_typer(deps_app)
