"""``modelatlas import card README.md --model NS/NAME``: read a Hugging Face model card onto
a model (its license, task, framework, tags and text) and onto a version (its results,
training datasets and base models: a new version, or ``--version N``)."""

from __future__ import annotations

from pathlib import Path

import typer

from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    fail,
    handles_errors,
    open_client,
    print_json,
)
from modelatlas.cli._render import console
from modelatlas.cli.imports import import_app
from modelatlas.registry.integration_types import CardImported

__all__ = ["card"]


@import_app.command("card")
@handles_errors
def card(
    file: Path = typer.Argument(..., dir_okay=False,
                                help="The card: a README.md with YAML front matter."),
    model: str = typer.Option(..., "--model", help="NAMESPACE/NAME (or model:NS/NAME); "
                                                   "created when missing."),
    version: int | None = typer.Option(None, "--version", min=1,
                                       help="Record the card's results, datasets and base "
                                            "models on this existing version instead of "
                                            "registering a new one."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Import a model card: model metadata and tags, and a version with its metrics and
    lineage. Importing the same card again changes nothing."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file} as UTF-8 text: {exc}") from None
    with open_client(home, url) as client:
        done = client.integrations.import_card(model, text, version=version)
    if json_out:
        print_json(done)
    else:
        _show(done)


def _show(done: CardImported) -> None:
    out = console()
    where = done.model_version or done.model
    if not done.changed:
        out.print(f"unchanged: {where} already holds what the card says")
    else:
        out.print(f"imported onto {where}")
    for label, items in (("created", done.created), ("updated", done.updated),
                         ("linked", done.relations), ("note", done.notes)):
        for item in items:
            out.print(f"  {label}: {item}", markup=False, soft_wrap=True)
