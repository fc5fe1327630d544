"""``modelatlas import catalog FILE``: reconcile the registry's datasets with a Marquez or
DataHub catalog export, for pipelines.

Exit status: 0 when the registry and the catalog agree, 1 when differences were found
(also with ``--sync``, which writes them: run again to see 0), 2 for a usage error, an
unreadable or malformed file, or a registry that refuses or cannot be reached."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.table import Table

from modelatlas.cli._common import HomeOption, JsonOption, UrlOption, open_client, print_json
from modelatlas.cli._render import console
from modelatlas.cli.imports import import_app
from modelatlas.errors import ModelAtlasError
from modelatlas.registry.reconcile_types import CatalogReconcileReport

__all__ = ["catalog", "usage_errors_exit_2"]

P = ParamSpec("P")
T = TypeVar("T")
USAGE = 2


def usage_errors_exit_2(command: Callable[P, T]) -> Callable[P, T]:
    """A user or connection error: its one-line diagnosis and exit status 2, so a pipeline
    tells "the check failed" (1) from "the check could not run" (2)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except ModelAtlasError as exc:
            sys.stderr.write("error: " + " ".join(exc.diagnosis().split()) + "\n")
            raise typer.Exit(USAGE) from None

    return wrapper


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"error: cannot read {path} as JSON: {exc}\n")
        raise typer.Exit(USAGE) from None


@import_app.command("catalog")
@usage_errors_exit_2
def catalog(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Marquez GET /namespaces/{ns}/datasets answer, or a "
                                     "DataHub file-sink export (JSON)."),
    format: str = typer.Option("auto", "--format", help="auto, marquez or datahub."),
    namespace: str | None = typer.Option(None, "--namespace", help="Compare this namespace "
                                                                   "only."),
    sync: bool = typer.Option(False, "--sync", help="Create missing datasets and register "
                                                    "new schema versions for drifted ones."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Compare the registry's datasets and schemas with a catalog export: missing, extra
    and drifted datasets. Exit 0 in sync, 1 differences found, 2 usage or registry error."""
    if format not in ("auto", "marquez", "datahub"):
        raise typer.BadParameter("one of auto, marquez, datahub", param_hint="--format")
    export = _read(file)
    with open_client(home, url) as client:
        report = client.integrations.reconcile_catalog(export, format=format,
                                                       namespace=namespace, sync=sync)
    if json_out:
        print_json(report)
    else:
        _show(report)
    if not report.in_sync:
        raise typer.Exit(1)


def _show(report: CatalogReconcileReport) -> None:
    out = console()
    if report.in_sync:
        out.print(f"in sync: {report.compared} {report.format} dataset(s) compared")
        return
    table = Table(title=f"{report.format}: {report.compared} dataset(s) compared",
                  title_justify="left")
    table.add_column("status")
    table.add_column("dataset")
    table.add_column("detail")
    for item in report.missing:
        table.add_row("missing", item.ref, f"{item.fields or 0} field(s) in the catalog")
    for extra in report.extra:
        table.add_row("extra", extra.ref, "not in the catalog")
    for drift in report.drifted:
        detail = ", ".join(f"{c.field} {c.change}" for c in drift.changes)
        table.add_row("drifted", drift.ref, detail)
    out.print(table)
    if report.synced:
        out.print(f"synced: created {len(report.created)} asset(s); drifted schemas "
                  "registered")
