"""``modelatlas import deployments PATH --namespace NS``: record the KServe and Seldon
deployments a manifest file (or a directory of them) describes, each linked to the model
version it serves.

Exit status: 0 when every deployment matched one model version, 1 when some are unmatched
or ambiguous (recorded all the same; with ``--strict`` nothing is written), 2 for a usage
error, an unreadable or malformed manifest, or a registry that refuses or cannot be
reached."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from modelatlas.cli._common import HomeOption, JsonOption, UrlOption, open_client, print_json
from modelatlas.cli._render import console
from modelatlas.cli.import_catalog import USAGE, usage_errors_exit_2
from modelatlas.cli.imports import import_app
from modelatlas.errors import InvalidInput, UnmatchedDeployments
from modelatlas.registry.integration_types import DeploymentsImported

__all__ = ["deployments"]

SUFFIXES = (".yaml", ".yml", ".json")


def _usage(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(USAGE)


def _files(path: Path) -> list[Path]:
    """The manifest files: ``path`` itself, or a directory's *.yaml/*.yml/*.json (not
    recursive), sorted by name so the report reads the same on every machine."""
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUFFIXES)
        if not found:
            raise _usage(f"{path} holds no *.yaml, *.yml or *.json files")
        return found
    if not path.is_file():
        raise _usage(f"{path} is neither a file nor a directory")
    return [path]


def _read(files: list[Path]) -> list[str]:
    texts = []
    for file in files:
        try:
            texts.append(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise _usage(f"cannot read {file} as UTF-8 text: {exc}") from None
    return texts


def _strict_refusal(exc: InvalidInput) -> bool:
    """Whether a strict import was refused for an unmatched or ambiguous deployment (the
    check failed: 1), not for bad input (2): the service says so by the error's class."""
    return isinstance(exc, UnmatchedDeployments)


@import_app.command("deployments")
@usage_errors_exit_2
def deployments(
    path: Path = typer.Argument(..., help="A manifest file, or a directory of *.yaml, *.yml "
                                          "and *.json manifests."),
    namespace: str | None = typer.Option(None, "--namespace", help="Where the deployments "
                                         "go (default: each manifest's metadata.namespace)."),
    strict: bool = typer.Option(False, "--strict", help="Write nothing when a deployment "
                                                        "matches no single model version."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Import KServe/Seldon manifests as deployments that serve model versions. Exit 0 all
    matched, 1 some unmatched or ambiguous, 2 usage, manifest or registry error."""
    files = _files(path)
    texts = _read(files)
    with open_client(home, url) as client:
        try:
            report = client.integrations.import_deployments(
                texts, namespace=namespace, strict=strict, sources=[f.name for f in files])
        except InvalidInput as exc:
            if not (strict and _strict_refusal(exc)):
                raise
            sys.stderr.write("error: " + " ".join(exc.diagnosis().split()) + "\n")
            raise typer.Exit(1) from None
    if json_out:
        print_json(report)
    else:
        _show(report)
    if report.unmatched:
        raise typer.Exit(1)


def _show(report: DeploymentsImported) -> None:
    table = Table(title=f"{report.matched} matched, {report.unmatched} unmatched or "
                        "ambiguous", title_justify="left")
    for column in ("status", "deployment", "model version(s)", "source"):
        table.add_column(column, overflow="fold")
    for item in report.deployments:
        versions = item.serves or item.candidates or item.storage_uris
        table.add_row(item.status, item.deployment, escape(", ".join(versions)),
                      escape(item.source))
    for skipped in report.skipped:
        table.add_row("skipped", escape(skipped.kind), escape(skipped.reason),
                      escape(skipped.source))
    console().print(table)
