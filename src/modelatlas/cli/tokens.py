"""``modelatlas tokens create|list|revoke``: the caller's API tokens.

Over HTTP (``--url``) the tokens belong to whoever ``MODELATLAS_TOKEN`` authenticates;
locally they belong to the configured actor: the way to mint the first token for a
server that requires authentication.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from modelatlas.cli import _render
from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    handles_errors,
    open_client,
    print_json,
)
from modelatlas.registry.token_types import Token

__all__ = ["tokens_app"]

tokens_app = typer.Typer(name="tokens", no_args_is_help=True,
                         help="API tokens: create (shown once), list, revoke.")
app.add_typer(tokens_app)


@tokens_app.command("create")
@handles_errors
def create(
    name: Annotated[str, typer.Option(help="A label, e.g. ci-deploy.")] = "",
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="read, write or admin (repeat; default read and write).")] = None,
    days: Annotated[int | None, typer.Option(
        help="Lifetime in days (default 90, at most 365).")] = None,
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Create a token acting as you. Its secret is printed once: store it now."""
    with open_client(home, url) as client:
        created = client.tokens.create(name=name, scopes=scope or None, expires_in_days=days)
    sys.stderr.write("warning: this is the only time the token is shown; store it now "
                     "(e.g. as MODELATLAS_TOKEN).\n")
    if as_json:
        print_json(created)
        return
    typer.echo(created.token)
    typer.echo(f"id {created.token_id}, scopes {','.join(created.scopes)}, "
               f"expires {created.expires_at}", err=True)


@tokens_app.command("list")
@handles_errors
def list_tokens(home: HomeOption = None, url: UrlOption = None,
                as_json: JsonOption = False) -> None:
    """Your tokens (never their secrets)."""
    with open_client(home, url) as client:
        found = client.tokens.list()
    if as_json:
        print_json([t.model_dump(mode="json") for t in found])
        return
    _render.console().print(_table(found))


@tokens_app.command("revoke")
@handles_errors
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (mat_<id>_...).")],
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Revoke a token: it stops authenticating at once."""
    with open_client(home, url) as client:
        token = client.tokens.revoke(token_id)
    if as_json:
        print_json(token)
        return
    typer.echo(f"revoked {token.token_id} ({token.name or 'unnamed'})")


def _table(tokens: list[Token]) -> Table:
    table = Table("id", "name", "person", "scopes", "status", "expires", "last used")
    for t in tokens:
        table.add_row(t.token_id, t.name, t.person, ",".join(t.scopes), t.status,
                      t.expires_at, t.last_used_at or "-")
    return table
