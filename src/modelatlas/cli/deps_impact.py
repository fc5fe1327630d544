"""``modelatlas deps impact`` and ``modelatlas deps revalidation``: what a change would
break, and which deployed versions wait for revalidation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from modelatlas.cli import _render
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    handles_errors,
    open_client,
    page_json,
    print_json,
)
from modelatlas.cli.deps import deps_app
from modelatlas.errors import InvalidInput
from modelatlas.registry.impact_types import Affected, ImpactReport

__all__ = ["deps_app"]


def _fields(path: Path) -> list[dict[str, Any]]:
    """A proposed schema's fields from YAML or JSON: a list, or ``{fields: [...]}``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput.at(str(path), f"cannot read the fields: {exc}") from None
    if isinstance(document, dict):
        document = document.get("fields")
    if not isinstance(document, list):
        raise InvalidInput.at(str(path), "a list of fields, or a mapping with 'fields'")
    return document


def _change(environment: str | None, package: str | None, to: str | None, scope: str,
            asset: str | None, schema: str | None, fields: Path | None,
            mode: str) -> dict[str, Any]:
    change: dict[str, Any] = {"mode": mode}
    if environment or package or to:
        change.update(environment=environment, package=package, to=to, scope=scope)
    if asset:
        change["asset"] = asset
    if schema:
        change["schema"] = schema
        change["fields"] = _fields(fields) if fields else None
    return change


def _affected_table(title: str, rows: list[Affected]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("ref", no_wrap=True)
    table.add_column("state", style="dim", no_wrap=True)
    table.add_column("why", overflow="fold")
    for row in rows:
        via = f" (via {row.via})" if row.via else ""
        table.add_row(row.ref, row.state, "; ".join(row.reasons) + via)
    return table


def _print_report(report: ImpactReport) -> None:
    out = _render.console()
    out.print(report.summary, markup=False)
    if report.compatible is not None:
        verdict = "compatible" if report.compatible else "NOT compatible"
        out.print(f"{verdict} ({report.mode})", markup=False)
        for line in report.incompatibilities:
            out.print(f"  {line}", markup=False)
    for title, rows in (("model versions", report.model_versions),
                        ("deployments", report.deployments), ("data", report.data)):
        if rows:
            out.print(_affected_table(f"{title} ({len(rows)})", rows))
    if not (report.model_versions or report.deployments):
        out.print("nothing affected")
    if report.truncated:
        out.print("(lists cut at --limit)")


@deps_app.command("impact")
@handles_errors
def impact(
    environment: str | None = typer.Option(None, "--environment", show_default=False,
                                           help="With --package and --to: the environment."),
    package: str | None = typer.Option(None, "--package", show_default=False),
    to: str | None = typer.Option(None, "--to", show_default=False, help="The new version."),
    scope: str = typer.Option("environment", "--scope",
                              help="environment (what runs there) or registry (everything)."),
    asset: str | None = typer.Option(None, "--asset", show_default=False,
                                     help="A new feature, dataset or schema version ref."),
    schema: str | None = typer.Option(None, "--schema", show_default=False,
                                      help="With --fields: a schema ref without version."),
    fields: Path | None = typer.Option(None, "--fields", exists=True, dir_okay=False,
                                       show_default=False,
                                       help="YAML/JSON list of the proposed fields."),
    mode: str = typer.Option("backward", "--mode",
                             help="Schema compatibility: backward, forward, full, none "
                                  "(or *_transitive)."),
    limit: int = typer.Option(1000, "--limit", help="Most assets per list."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """What a change would break: a package upgrade in an environment, a new version of a
    feature, dataset or schema, or a proposed schema. Exits 1 when something is affected."""
    change = _change(environment, package, to, scope, asset, schema, fields, mode)
    change["limit"] = limit
    with open_client(home, url) as client:
        report = client.deps.impact(change)
    if json_out:
        print_json(report)
    else:
        _print_report(report)
    if report.model_versions or report.deployments:
        raise typer.Exit(1)


@deps_app.command("revalidation")
@handles_errors
def revalidation(
    ref: str | None = typer.Argument(None, help="Only this asset's marks.", show_default=False),
    limit: int = typer.Option(100, "--limit"),
    cursor: str | None = typer.Option(None, "--cursor", show_default=False),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Deployed model versions whose dependencies changed since they were last validated."""
    with open_client(home, url) as client:
        page = client.deps.revalidation(ref, cursor=cursor, limit=limit)
    if json_out:
        print_json(page_json(list(page.items), page.next_cursor))
        return
    table = Table()
    for column in ("ref", "cause", "reason", "since"):
        table.add_column(column, overflow="fold")
    for mark in page.items:
        table.add_row(mark.ref, mark.cause, mark.reason, mark.marked_at)
    _render.console().print(table)
    if page.next_cursor:
        typer.echo(f"more: --cursor {page.next_cursor}")
