"""``modelatlas search``: the query language from a terminal, as a table with facets."""

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
from modelatlas.registry import FacetValue


def facet_table(facets: dict[str, list[FacetValue]]) -> Table:
    """One row per facet: its values with their counts, most frequent first."""
    table = Table(title="facets", title_justify="left", show_header=False)
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for name, values in facets.items():
        table.add_row(name, ", ".join(f"{v.value} ({v.count})" for v in values) or "-")
    return table


@app.command()
@handles_errors
def search(
    query: str = typer.Argument("", help='A query, e.g. "kind:model_version metrics.auc>=0.9".'),
    facet: list[str] | None = typer.Option(
        None, "--facet", help="Count this facet (repeat); default: the configured ones."),
    sort: str = typer.Option("relevance", "--sort",
                             help="relevance, created, -created, name, metrics.auc, ..."),
    limit: int = typer.Option(20, "--limit", min=1, help="Results per page."),
    cursor: str | None = typer.Option(None, "--cursor",
                                      help="Continue from a previous page's next_cursor."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Search assets with the query language (docs/query-language.md)."""
    with open_client(home, url) as client:
        result = client.search(query, facets=facet, sort=sort, cursor=cursor, limit=limit)
    if json_out:
        print_json(result)
        return
    out = _render.console()
    out.print(_render.asset_table(result.items, out.width))
    if result.facets:
        out.print(facet_table(result.facets))
    if result.unknown_tags:
        out.print(f"[yellow]tags outside the vocabulary: {', '.join(result.unknown_tags)}[/]")
    if result.next_cursor:
        out.print(f"[dim]more: --cursor {result.next_cursor}[/dim]")
