"""``modelatlas export ...``: write what the registry knows in another system's format (one
command per format registers itself on :data:`export_app`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from modelatlas.cli._app import app
from modelatlas.cli._common import HomeOption, UrlOption, fail, handles_errors, open_client

__all__ = ["card", "export_app"]

export_app = typer.Typer(name="export", no_args_is_help=True,
                         help="Export metadata in other systems' formats.")
app.add_typer(export_app)


@export_app.command("card")
@handles_errors
def card(
    ref: str = typer.Argument(..., help="model_version:NS/NAME@N (a model: its newest "
                                        "version)."),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False,
                                       help="Write the card to this file instead of stdout."),
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Write a model version's Hugging Face model card (README.md) from its metadata and
    lineage: only what you may read."""
    with open_client(home, url) as client:
        text = client.integrations.export_card(ref)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc}") from None
    sys.stderr.write(f"wrote {output}\n")
