"""``link``: add or remove a typed edge between two assets."""

from __future__ import annotations

import typer

from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    handles_errors,
    open_client,
    print_json,
    scalar,
    split_pairs,
)
from modelatlas.cli.lineage_change import describe
from modelatlas.registry.alias_types import LineageChange


@app.command()
@handles_errors
def link(
    source: str = typer.Argument(..., help="Source ref, e.g. run:fraud/train-42"),
    relation: str = typer.Argument(..., help="used, produced, derived_from, serves ..."),
    target: str = typer.Argument(..., help="Target ref, e.g. dataset:finance/transactions@3"),
    remove: bool = typer.Option(False, "--remove", help="Remove the edge instead."),
    prop: list[str] = typer.Option([], "--property", "-p", help="Edge property KEY=VALUE."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Add SOURCE -RELATION-> TARGET (or remove it with --remove)."""
    properties = {k: scalar(v) for k, v in split_pairs(prop, "--property")}
    with open_client(home, url) as client:
        if remove:
            requested = client.relations.remove(source, relation, target)
            if requested is None:
                typer.echo(f"removed {source} -{relation}-> {target}")
            else:
                typer.echo(f"requested {describe(requested)}: it awaits a maintainer's "
                           "approval (modelatlas lineage-change approve)")
            return
        edge = client.relations.add(source, relation, target, properties=properties or None)
    if json_out:
        print_json(edge)
    elif isinstance(edge, LineageChange):  # a production version's lineage: requested
        typer.echo(f"requested {describe(edge)}: it awaits a maintainer's approval "
                   "(modelatlas lineage-change approve)")
    else:
        typer.echo(f"linked {edge.source} -{edge.relation}-> {edge.target}")
