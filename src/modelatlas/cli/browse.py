"""``show``, ``ls`` and ``history``: read the registry as tables or JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

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
from modelatlas.registry.types import Page

LimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, show_default=False,
                 help="Page size (default 50; 200 with --all)."),
]
CursorOption = Annotated[
    str | None, typer.Option("--cursor", help="Continue from a previous page's next_cursor.")
]
AllOption = Annotated[bool, typer.Option("--all", help="Follow cursors to the last page.")]


def _next_page_hint(cursor: str | None) -> None:
    if cursor:
        _render.console().print(f"[dim]more: --cursor {cursor}[/dim]")


@app.command()
@handles_errors
def show(
    ref: str = typer.Argument(..., help="kind:namespace/name[@version]"),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Show one asset with its metadata and relations."""
    with open_client(home, url) as client:
        asset = client.assets.get(ref)
        if json_out:
            print_json(asset)
            return
        page = client.assets.relations(ref, limit=100)
    _render.asset_detail(asset, page.items, more=page.next_cursor is not None)


T = TypeVar("T")


def _pages(
    fetch: Callable[[str | None, int], Page[T]],
    cursor: str | None,
    limit: int | None,
    all_pages: bool,
) -> tuple[list[T], str | None]:
    """One page, or with ``--all`` every page from ``cursor`` on; and the next cursor."""
    items: list[T] = []
    while True:
        page = fetch(cursor, limit or (200 if all_pages else 50))
        items += page.items
        cursor = page.next_cursor
        if not (all_pages and cursor):
            return items, cursor


@app.command("ls")
@handles_errors
def list_assets(
    kind: str | None = typer.Option(None, "--kind", help="model, model_version, dataset ..."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="Owning team."),
    tag: str | None = typer.Option(None, "--tag", help="Only assets with this tag."),
    limit: LimitOption = None,
    cursor: CursorOption = None,
    all_pages: AllOption = False,
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """List assets, oldest first."""
    with open_client(home, url) as client:
        items, cursor = _pages(
            lambda after, size: client.assets.list(
                kind=kind, namespace=namespace, tag=tag, cursor=after, limit=size
            ),
            cursor, limit, all_pages,
        )
    if json_out:
        print_json(page_json(list(items), cursor))
        return
    out = _render.console()
    out.print(_render.asset_table(items, out.width))
    _next_page_hint(cursor)


@app.command()
@handles_errors
def history(
    ref: str = typer.Argument(..., help="kind:namespace/name[@version]"),
    limit: LimitOption = None,
    cursor: CursorOption = None,
    all_pages: AllOption = False,
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """The events that made an asset what it is, oldest first."""
    with open_client(home, url) as client:
        events, cursor = _pages(
            lambda after, size: client.assets.history(ref, cursor=after, limit=size),
            cursor, limit, all_pages,
        )
    if json_out:
        print_json(page_json(list(events), cursor))
        return
    _render.console().print(_render.event_table(events))
    _next_page_hint(cursor)
