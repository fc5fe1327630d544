"""``modelatlas suggest`` and ``modelatlas related``: completions and neighbours."""

from __future__ import annotations

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


@app.command()
@handles_errors
def suggest(
    prefix: str = typer.Argument(..., help='What was typed so far, e.g. "model:fr" or "met".'),
    limit: int = typer.Option(10, "--limit", min=1, max=50, help="How many."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Complete the last token of a query: refs, names, tags, facet values, fields."""
    with open_client(home, url) as client:
        found = client.suggest(prefix, limit=limit)
    if json_out:
        print_json([s.model_dump(mode="json") for s in found])
        return
    table = Table("suggestion", "kind", "ref", "score")
    for item in found:
        table.add_row(item.text, item.kind, item.ref or "", f"{item.score:.3g}")
    _render.console().print(table)


@app.command()
@handles_errors
def related(
    ref: str = typer.Argument(..., help="An asset ref, e.g. model_version:fraud/churn@1."),
    limit: int = typer.Option(10, "--limit", min=1, max=50, help="How many."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Assets sharing datasets, features, tags or lineage with REF, best first."""
    with open_client(home, url) as client:
        found = client.related(ref, limit=limit)
    if json_out:
        print_json([r.model_dump(mode="json") for r in found])
        return
    table = Table("asset", "score", "why")
    for item in found:
        table.add_row(item.asset.ref, f"{item.score:g}", "; ".join(item.reasons))
    _render.console().print(table)
