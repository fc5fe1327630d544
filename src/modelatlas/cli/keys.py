"""``modelatlas keys status|rotate``: the data encryption keys of sensitive fields, on
the ``keys`` group whose ``add|list|revoke`` manage namespaces' signing keys
(:mod:`modelatlas.cli.attest`).

Local only: the keys live where the registry runs (the key file in ``MODELATLAS_HOME`` or
``MODELATLAS_ENCRYPTION_KEY``), so these commands open the registry directly, as the
operator of the server would.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress

from modelatlas.cli._common import HomeOption, JsonOption, handles_errors, open_registry, print_json
from modelatlas.cli.attest import keys_app

__all__ = ["keys_app"]


@keys_app.command("status")
@handles_errors
def status(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Key ids, which one is current, and how many values each still seals."""
    registry = open_registry(home)
    try:
        found = registry.key_status()
    finally:
        registry.close()
    if as_json:
        print_json(found)
        return
    typer.echo(f"source {found.source}, current key {found.current}")
    for key in found.keys:
        typer.echo(f"{key.key_id}{' (current)' if key.current else ''}: {key.rows} values")
    if found.unknown_key_ids:
        raise typer.Exit(1) from None


@keys_app.command("rotate")
@handles_errors
def rotate(
    batch: Annotated[int, typer.Option(help="Values re-encrypted per transaction.")] = 500,
    home: HomeOption = None, as_json: JsonOption = False,
) -> None:
    """Make a new current key and re-encrypt every value with it; the old key is removed
    once no value needs it. Interrupted, run it again: it resumes."""
    registry = open_registry(home)
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task("re-encrypting", total=None)

            def advance(done: int, left: int) -> None:
                bar.update(task, completed=done, total=done + left)

            result = registry.rotate_keys(batch=batch, progress=advance)
    finally:
        registry.close()
    if as_json:
        print_json(result)
        return
    typer.echo(f"current key {result.current}: {result.reencrypted} values re-encrypted, "
               f"{result.remaining} remaining"
               + (f"; retired {', '.join(result.retired_key_ids)}"
                  if result.retired_key_ids else ""))
