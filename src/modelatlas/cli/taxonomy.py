"""``modelatlas taxonomy``: read and edit the vocabulary of semantic tags."""

from __future__ import annotations

from pathlib import Path
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
    page_json,
    print_json,
)
from modelatlas.search.taxonomy import Term

taxonomy_app = typer.Typer(
    name="taxonomy", no_args_is_help=True,
    help="The vocabulary of semantic tags: terms, their hierarchy and synonyms.",
)
app.add_typer(taxonomy_app)

TermArgument = Annotated[str, typer.Argument(help="a term, e.g. task:classification")]


def _term_table(terms: list[Term]) -> Table:
    table = Table()
    table.add_column("term", no_wrap=True)
    table.add_column("parent", no_wrap=True, style="dim")
    table.add_column("synonyms", overflow="fold")
    table.add_column("description", overflow="fold")
    for term in terms:
        table.add_row(term.term, term.parent or "", ", ".join(term.synonyms), term.description)
    return table


@taxonomy_app.command("ls")
@handles_errors
def list_terms(
    under: str | None = typer.Option(None, "--under", help="Only this term and those below it."),
    limit: int = typer.Option(200, "--limit", min=1, help="Page size."),
    cursor: str | None = typer.Option(None, "--cursor", help="A previous page's next_cursor."),
    all_pages: bool = typer.Option(False, "--all", help="Follow cursors to the last page."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """List the vocabulary's terms in name order."""
    items: list[Term] = []
    with open_client(home, url) as client:
        while True:
            page = client.taxonomy.terms(under=under, cursor=cursor, limit=limit)
            items += page.items
            cursor = page.next_cursor
            if not (all_pages and cursor):
                break
    if json_out:
        print_json(page_json(list(items), cursor))
        return
    out = _render.console()
    out.print(_term_table(items))
    if cursor:
        out.print(f"[dim]more: --cursor {cursor}[/dim]")


@taxonomy_app.command("show")
@handles_errors
def show(
    term: TermArgument,
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Show a term (a synonym shows its canonical term)."""
    with open_client(home, url) as client:
        found = client.taxonomy.get(term)
    if json_out:
        print_json(found)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    grid.add_row("term", found.term)
    for label, value in (("parent", found.parent or ""), ("description", found.description),
                         ("synonyms", ", ".join(found.synonyms)),
                         ("narrower", ", ".join(found.children))):
        if value:
            grid.add_row(label, value)
    grid.add_row("updated", f"{found.updated_at} by {found.updated_by}")
    _render.console().print(grid)


@taxonomy_app.command("set")
@handles_errors
def set_term(
    term: TermArgument,
    parent: str | None = typer.Option(None, "--parent", help="The broader term it sits under."),
    description: str = typer.Option("", "--description", help="What the term means."),
    synonyms: list[str] | None = typer.Option(
        None, "--synonym", help="A synonym (repeat; replaces the term's synonyms when given)."
    ),
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Create or update a term (parent and description as given)."""
    with open_client(home, url) as client:
        stored = client.taxonomy.set(term, parent=parent, description=description,
                                     synonyms=synonyms or None)
    typer.echo(f"set {stored.term}" + (f" under {stored.parent}" if stored.parent else ""))


@taxonomy_app.command("rm")
@handles_errors
def remove_term(term: TermArgument, home: HomeOption = None, url: UrlOption = None) -> None:
    """Remove a term and its synonyms (refused while it has narrower terms)."""
    with open_client(home, url) as client:
        client.taxonomy.remove(term)
    typer.echo(f"removed {term}")


@taxonomy_app.command("load")
@handles_errors
def load(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="A vocabulary document (YAML or JSON)."),
    replace: bool = typer.Option(False, "--replace",
                                 help="Remove every term the document does not name."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Load a vocabulary document in one transaction."""
    with open_client(home, url) as client:
        summary = client.taxonomy.load(file, replace=replace)
    if json_out:
        print_json(summary)
        return
    typer.echo(f"loaded {summary.terms} terms and {summary.synonyms} synonyms: "
               f"{summary.created} created, {summary.updated} updated, "
               f"{summary.removed} removed")


@taxonomy_app.command("expand")
@handles_errors
def expand(
    tag: str = typer.Argument(..., help="A tag as you would search for it."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Every tag a search for TAG matches: its term, narrower terms, and their synonyms."""
    with open_client(home, url) as client:
        found = client.taxonomy.expand(tag)
    if json_out:
        print_json(found)
        return
    if found.canonical is None:
        typer.echo(f"{tag} is not in the vocabulary; it matches only itself")
    elif found.canonical != tag.strip():
        typer.echo(f"{tag} means {found.canonical}")
    for item in found.tags:
        typer.echo(item)
