"""``modelatlas alias set|get|list|rm``: named pointers (champion, challenger) to a model's
versions. ``champion`` (or whatever the namespace protects) needs a maintainer."""

from __future__ import annotations

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
from modelatlas.errors import InvalidInput

__all__ = ["alias_app"]

alias_app = typer.Typer(name="alias", no_args_is_help=True,
                        help="Model aliases: set, get, list, rm.")
app.add_typer(alias_app)

ModelArg = Annotated[str, typer.Argument(help="The model: NAMESPACE/NAME (or model:NS/NAME).")]
AliasArg = Annotated[str, typer.Argument(help="The alias, e.g. champion.")]


def _model(text: str) -> tuple[str, str]:
    namespace, sep, name = text.removeprefix("model:").partition("/")
    if not sep or not namespace or not name:
        raise InvalidInput.at("/model", "write NAMESPACE/NAME, e.g. fraud/churn")
    return namespace, name


@alias_app.command("set")
@handles_errors
def set_alias(
    model: ModelArg, alias: AliasArg,
    version: Annotated[str, typer.Argument(help="A version number, or the version's ref.")],
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Point ALIAS at a version of MODEL."""
    namespace, name = _model(model)
    with open_client(home, url) as client:
        made = client.aliases.set(namespace, name, alias, version)
    if as_json:
        print_json(made)
    else:
        typer.echo(f"{made.model}@{made.alias} -> {made.version}")


@alias_app.command("get")
@handles_errors
def get_alias(model: ModelArg, alias: AliasArg, home: HomeOption = None,
              url: UrlOption = None, as_json: JsonOption = False) -> None:
    """The version ALIAS points at."""
    namespace, name = _model(model)
    with open_client(home, url) as client:
        version = client.aliases.get(namespace, name, alias)
    if as_json:
        print_json(version)
    else:
        typer.echo(version.ref)


@alias_app.command("list")
@handles_errors
def list_aliases(model: ModelArg, home: HomeOption = None, url: UrlOption = None,
                 as_json: JsonOption = False) -> None:
    """MODEL's aliases, one a line: alias, version, who set it and when."""
    namespace, name = _model(model)
    with open_client(home, url) as client:
        found = client.aliases.list(namespace, name)
    if as_json:
        print_json([a.model_dump(mode="json") for a in found])
        return
    for item in found:
        typer.echo(f"{item.alias}\t{item.version}\t{item.set_by}\t{item.set_at}")


@alias_app.command("rm")
@handles_errors
def remove_alias(model: ModelArg, alias: AliasArg, home: HomeOption = None,
                 url: UrlOption = None) -> None:
    """Remove ALIAS (the same right as setting it)."""
    namespace, name = _model(model)
    with open_client(home, url) as client:
        client.aliases.remove(namespace, name, alias)
    typer.echo(f"removed model:{namespace}/{name}@{alias}")
