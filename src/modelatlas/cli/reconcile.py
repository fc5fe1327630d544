"""``modelatlas audit reconcile``: do the artifacts at their recorded URIs still match
the recorded digests? Reads the files on this machine (docs/integrity.md). Registered on
the ``audit`` group of :mod:`modelatlas.cli.audit`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from modelatlas.cli import _render
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    handles_errors,
    open_client,
    print_json,
)
from modelatlas.cli.audit import audit_app
from modelatlas.integrity.reconcile import ArtifactCheck, ReconcileReport, reconcile

_STYLE = {"ok": "green", "missing": "red", "changed": "red", "unreadable": "yellow"}


@audit_app.command("reconcile")
@handles_errors
def reconcile_command(
    refs: Annotated[list[str] | None, typer.Argument(
        help="Assets to check (default: the --query's hits, else every model version and "
             "dataset).", show_default=False)] = None,
    query: Annotated[str | None, typer.Option(
        "--query", "-q", help="Check the assets this search query finds.")] = None,
    show_ok: Annotated[bool, typer.Option("--all", help="List matching artifacts too.")]
    = False,
    as_json: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Compare recorded artifact digests with what is at their URIs now: missing, changed
    (and which files, when a manifest was recorded), unreadable (no reader for the URI's
    scheme). Exits 1 when anything is missing or changed."""
    with open_client(home, url) as client:
        report = reconcile(client, query=query, refs=refs or ())
    if as_json:
        print_json(report.as_dict())
    else:
        _print(report, show_ok)
    if not report.clean:
        raise typer.Exit(1)


def _detail(check: ArtifactCheck) -> str:
    if check.status == "changed":
        files = [*(f"changed {f}" for f in check.changed_files),
                 *(f"missing {f}" for f in check.missing_files),
                 *(f"extra {f}" for f in check.extra_files)]
        return "; ".join(files) or f"sha256 {check.actual} (recorded {check.recorded})"
    return check.reason


def _print(report: ReconcileReport, show_ok: bool) -> None:
    out = _render.console()
    shown = [c for c in report.checks if show_ok or c.status != "ok"]
    if shown:
        table = Table(show_edge=False)
        for column in ("status", "asset", "artifact", "detail"):
            table.add_column(column, overflow="fold")
        for check in shown:
            table.add_row(f"[{_STYLE[check.status]}]{check.status}[/]", check.ref,
                          check.uri, _detail(check))
        out.print(table)
    counts = report.counts()
    out.print(f"{report.assets} assets, {len(report.checks)} artifacts: "
              + ", ".join(f"{n} {status}" for status, n in counts.items()))
