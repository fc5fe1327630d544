"""The Typer application the command modules attach to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="modelatlas",
    help="ModelAtlas: a metadata-enriched model registry, a living map of your models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
