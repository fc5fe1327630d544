"""``modelatlas artifacts push|pull``: the bytes of a model version's artifacts, kept by
the registry's artifact store (the version's metadata names each artifact and its SHA-256;
the registry refuses bytes that do not match)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    handles_errors,
    open_client,
    print_json,
)

__all__ = ["artifacts_app"]

artifacts_app = typer.Typer(name="artifacts", no_args_is_help=True,
                            help="Artifact bytes of a model version: push, pull.")
app.add_typer(artifacts_app)

RefArgument = Annotated[str, typer.Argument(help="model_version:namespace/name@N")]
NameOption = Annotated[str | None, typer.Option(
    "--name", help="The artifact's name in the metadata (default: the file's name).")]


@artifacts_app.command("push")
@handles_errors
def push(ref: RefArgument,
         path: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                              help="The local file to upload.")],
         name: NameOption = None, home: HomeOption = None, url: UrlOption = None,
         as_json: JsonOption = False) -> None:
    """Upload a file as one of the version's artifacts (checked against its SHA-256)."""
    with open_client(home, url) as client:
        stored = client.artifacts.upload(ref, name or path.name, path)
    if as_json:
        print_json(stored)
        return
    typer.echo(f"stored {stored.name} of {stored.ref}: {stored.size} bytes, "
               f"sha256 {stored.sha256}")


@artifacts_app.command("pull")
@handles_errors
def pull(ref: RefArgument,
         name: Annotated[str, typer.Argument(help="The artifact's name in the metadata.")],
         dest: Annotated[Path, typer.Option(
             "--to", help="File or directory to write (default: the current directory).")
         ] = Path("."),
         home: HomeOption = None, url: UrlOption = None) -> None:
    """Download one of the version's artifacts; its SHA-256 is checked before it lands."""
    with open_client(home, url) as client:
        written = client.artifacts.download(ref, name, dest)
    typer.echo(str(written))
