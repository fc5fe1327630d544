"""``modelatlas import mlflow --tracking-uri URL``: import an MLflow tracking server's
registered models, versions, aliases, stages, runs, dataset inputs and requirements.

It runs against the local registry (``--home`` / ``MODELATLAS_DATABASE_URL``), never through
a ModelAtlas server: the server would have to fetch a URL its caller chose (a request
forgery risk), so there is no such route. Run it again at any time: it adds only what is
new in MLflow and says so."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from modelatlas.cli._common import HomeOption, JsonOption, handles_errors, open_registry, print_json
from modelatlas.cli._render import console
from modelatlas.cli.imports import import_app
from modelatlas.registry.mlflow_types import MlflowImported

__all__ = ["mlflow"]


@import_app.command("mlflow")
@handles_errors
def mlflow(
    tracking_uri: str = typer.Option(..., "--tracking-uri", help="The MLflow tracking "
                                     "server's URL, e.g. http://127.0.0.1:5000 (a sqlite: "
                                     "store must be served first: mlflow server "
                                     "--backend-store-uri ... --serve-artifacts)."),
    namespace: str = typer.Option("mlflow", "--namespace", help="Where the models, runs "
                                  "and datasets go."),
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Import MLflow's registered models with their versions (same numbers), aliases,
    stages, tags, runs (parameters, metrics), dataset inputs and requirements."""
    registry = open_registry(home)
    try:
        if json_out:
            report = registry.import_mlflow(tracking_uri, namespace=namespace)
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          console=console(), transient=True) as bar:
                task = bar.add_task("importing MLflow models", total=None)

                def step(done: int, total: int, name: str) -> None:
                    bar.update(task, completed=done, total=total,
                               description=f"imported {escape(name)}")

                report = registry.import_mlflow(tracking_uri, namespace=namespace,
                                                progress=step)
    finally:
        registry.close()
    if json_out:
        print_json(report)
    else:
        _show(report)


def _show(report: MlflowImported) -> None:
    out = console()
    for change in report.changes:
        detail = f" ({escape(change.detail)})" if change.detail else ""
        out.print(f"{change.outcome} {change.what} {escape(change.ref)}{detail}")
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    out.print(f"{report.models} MLflow model(s) read from {escape(report.tracking_uri)}: "
              f"created {report.created}, updated {report.updated}, "
              f"unchanged {report.unchanged}"
              + (" (nothing new)" if not report.created and not report.updated else ""))
