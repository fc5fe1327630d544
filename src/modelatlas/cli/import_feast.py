"""``modelatlas import feast``: import a Feast feature repository's feature views (with
their data sources and schemas) as ``feature`` versions.

Either a file holding what ``feast registry-dump`` printed (``-``: standard input), or
``--repo PATH``: the command runs ``feast registry-dump`` there itself (``--feast`` names
the Feast command, for a Feast installed in its own venv). Feast is read here, on the
caller's machine; the registry (local, or a server with ``--url``) only receives the dump.
Run it again after each ``feast apply``: an unchanged view writes nothing, a changed one
becomes a new version and marks the deployed model versions that depend on it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    fail,
    handles_errors,
    open_client,
    print_json,
)
from modelatlas.cli._render import console
from modelatlas.cli.imports import import_app
from modelatlas.integrations.feast import run_registry_dump
from modelatlas.registry.feast_types import FeastImported

__all__ = ["feast"]


def _dump(file: str | None, repo: Path | None, feast_command: str) -> dict[str, Any]:
    if (file is None) == (repo is None):
        raise fail("name one source: a registry-dump FILE (or - for stdin), or --repo PATH")
    if repo is not None:
        text = run_registry_dump(repo, feast=feast_command)
        where = f"`feast registry-dump` in {repo}"
    elif file == "-":
        text, where = sys.stdin.read(), "standard input"
    else:
        try:
            text = Path(str(file)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"cannot read {file}: {exc}") from None
        where = str(file)
    try:
        dump = json.loads(text)
    except ValueError as exc:
        raise fail(f"{where} is not JSON from `feast registry-dump`: {exc}") from None
    if not isinstance(dump, dict):
        raise fail(f"{where} is not a Feast registry dump (a JSON object)")
    return dump


@import_app.command("feast")
@handles_errors
def feast(
    file: str | None = typer.Argument(None, help="What `feast registry-dump` printed, as a "
                                      "file (- reads standard input)."),
    repo: Path | None = typer.Option(None, "--repo", help="A Feast feature repository (the "
                                     "folder of feature_store.yaml): run `feast "
                                     "registry-dump` there."),
    feast_command: str = typer.Option("feast", "--feast", help="The Feast command --repo "
                                      "runs (a path, e.g. .venv-feast/bin/feast)."),
    namespace: str = typer.Option(..., "--namespace", help="Where the features, datasets "
                                  "and schemas go."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Import Feast feature views as feature versions linked to their source datasets and
    schemas; a changed definition becomes a new version."""
    dump = _dump(file, repo, feast_command)
    with open_client(home, url) as client:
        report = client.integrations.import_feast(dump, namespace=namespace)
    if json_out:
        print_json(report)
    else:
        _show(report)


def _show(report: FeastImported) -> None:
    out = console()
    for change in report.changes:
        detail = f" ({escape(change.detail)})" if change.detail else ""
        out.print(f"{change.outcome.replace('_', ' ')} {change.what} "
                  f"{escape(change.ref)}{detail}")
    for marked in report.revalidation:
        out.print(f"needs revalidation: {escape(marked)}")
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    nothing = " (nothing new)" if not report.created and not report.new_versions else ""
    project = escape(report.project or "(unnamed)")
    out.print(f"{report.feature_views} feature view(s) read from Feast project {project}: "
              f"created {report.created}, new versions {report.new_versions}, "
              f"unchanged {report.unchanged}{nothing}")
