"""``modelatlas lineage-change list|show|approve|reject``: changes to the lineage of model
versions in production wait for a second maintainer (``modelatlas link`` requests them)."""

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
from modelatlas.registry.alias_types import LineageChange

__all__ = ["describe", "lineage_change_app"]

lineage_change_app = typer.Typer(
    name="lineage-change", no_args_is_help=True,
    help="Requested lineage changes of production versions: list, show, approve, reject.")
app.add_typer(lineage_change_app)

IdArg = Annotated[int, typer.Argument(help="The change request's id.")]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="Why, for the record.")]


def describe(change: LineageChange) -> str:
    """One line: id, status, what would change, who asked."""
    sign = "+" if change.op == "add" else "-"
    return (f"#{change.id} {change.status}: {sign} {change.source} -{change.relation}-> "
            f"{change.target} (requested by {change.requested_by})")


@lineage_change_app.command("list")
@handles_errors
def list_changes(
    namespace: Annotated[str | None, typer.Option(help="Only this namespace's.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, applied or rejected.")] = None,
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Change requests you may read, oldest first."""
    with open_client(home, url) as client:
        found = list(client.lineage_changes.iter(namespace=namespace, status=status))
    if as_json:
        print_json([c.model_dump(mode="json") for c in found])
        return
    for change in found:
        typer.echo(describe(change))


@lineage_change_app.command("show")
@handles_errors
def show(change_id: IdArg, home: HomeOption = None, url: UrlOption = None,
         as_json: JsonOption = False) -> None:
    """One change request."""
    with open_client(home, url) as client:
        change = client.lineage_changes.get(change_id)
    print_json(change) if as_json else typer.echo(describe(change))


@lineage_change_app.command("approve")
@handles_errors
def approve(change_id: IdArg, comment: CommentOption = "", home: HomeOption = None,
            url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Approve and apply a change (a maintainer who did not request it)."""
    with open_client(home, url) as client:
        change = client.lineage_changes.approve(change_id, comment=comment)
    print_json(change) if as_json else typer.echo(describe(change))


@lineage_change_app.command("reject")
@handles_errors
def reject(change_id: IdArg, comment: CommentOption = "", home: HomeOption = None,
           url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Reject a change: the lineage stays as it is."""
    with open_client(home, url) as client:
        change = client.lineage_changes.reject(change_id, comment=comment)
    print_json(change) if as_json else typer.echo(describe(change))
