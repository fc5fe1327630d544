"""``modelatlas deps``: what model versions require, whether an environment satisfies them,
one environment for several, and what a change would break.

Files (requirements, ``pip freeze`` output, index snapshots) are read here, on the user's
machine, and sent as structured data with their file and line.
"""

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
    print_json,
)
from modelatlas.client import environment_from_freeze, requirements_from_file
from modelatlas.registry import (
    CheckResult,
    DemandOut,
    ModelRequirements,
    OriginOut,
    ResolutionOut,
    WhyResult,
)

deps_app = typer.Typer(
    name="deps", no_args_is_help=True,
    help="Dependencies: show, check, resolve, impact, why.",
)
app.add_typer(deps_app)

RefArgument = Annotated[str, typer.Argument(help="a model version, e.g. "
                                                 "model_version:fraud/churn@7")]
IndexOption = Annotated[
    Path | None,
    typer.Option("--index", exists=True, dir_okay=False, show_default=False,
                 help="An index snapshot file: 'name version [requirement | ...]' lines."),
]
PythonOption = Annotated[
    str | None,
    typer.Option("--python", show_default=False, help="The target Python, e.g. 3.11 or 3.11.7."),
]
PlatformOption = Annotated[
    str, typer.Option("--platform", help="The target sys.platform: linux, darwin, win32."),
]


def _where(origin: OriginOut | None) -> str:
    if origin is None:
        return ""
    return f"{origin.file}:{origin.line}" if origin.line is not None else origin.file


def _requirements_table(found: ModelRequirements) -> Table:
    table = Table(title=found.ref)
    table.add_column("type", no_wrap=True, style="dim")
    table.add_column("requirement", overflow="fold")
    table.add_column("declared at", no_wrap=True)
    if found.python:
        table.add_row("python", found.python, _where(found.python_origin))
    for label, value in (("accelerator", found.accelerator), ("cuda", found.cuda),
                         ("image", found.image), ("input schema", found.input_schema),
                         ("output schema", found.output_schema)):
        if value:
            table.add_row(label, value, "")
    for package in found.packages:
        table.add_row("package", package.requirement, _where(package.origin))
    for asset in found.assets:
        table.add_row("asset", asset.requirement, _where(asset.origin))
    return table


@deps_app.command("show")
@handles_errors
def show(ref: RefArgument, json_out: JsonOption = False, home: HomeOption = None,
         url: UrlOption = None) -> None:
    """What a model version requires, each requirement with the file and line it came from."""
    with open_client(home, url) as client:
        found = client.deps.requirements(ref)
    if json_out:
        print_json(found)
        return
    _render.console().print(_requirements_table(found))


@deps_app.command("set")
@handles_errors
def set_requirements(
    ref: RefArgument,
    source: Path = typer.Option(..., "--from", exists=True, show_default=False,
                                help="requirements.txt, pyproject.toml, environment.yml, "
                                     "python_env.yaml or an MLflow model directory."),
    extra: list[str] = typer.Option([], "--extra", help="pyproject.toml extra (repeatable)."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Replace a model version's requirements with those read from a file."""
    payload = requirements_from_file(source, extras=extra)
    with open_client(home, url) as client:
        stored = client.deps.set_requirements(ref, payload)
    if json_out:
        print_json(stored)
        return
    typer.echo(f"set {len(stored.packages)} packages and {len(stored.assets)} assets "
               f"on {stored.ref}")


def _check_output(result: CheckResult) -> None:
    out = _render.console()
    verdict = "compatible" if result.compatible else "NOT compatible"
    out.print(f"{result.ref} is {verdict} with {result.target}", markup=False)
    if not result.violations:
        return
    table = Table()
    table.add_column("kind", no_wrap=True, style="dim")
    table.add_column("subject", no_wrap=True)
    table.add_column("problem", overflow="fold")
    for v in result.violations:
        table.add_row(v.kind, v.subject, v.message)
    out.print(table)


@deps_app.command("check")
@handles_errors
def check(
    ref: RefArgument,
    target: str | None = typer.Option(None, "--target", show_default=False,
                                      help="An environment or deployment ref."),
    freeze: Path | None = typer.Option(None, "--freeze", exists=True, dir_okay=False,
                                       show_default=False,
                                       help="`pip freeze` output to check against instead."),
    python: PythonOption = None,
    platform: PlatformOption = "linux",
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Is a model version compatible with an environment or deployment? Exit 1 if not."""
    if (target is None) == (freeze is None):
        raise typer.BadParameter("give --target REF or --freeze FILE", param_hint="--target")
    environment = None
    if freeze is not None:
        text = freeze.read_text(encoding="utf-8")
        environment = environment_from_freeze(text, python=python, name=freeze.name,
                                              file=freeze.name, platform=platform)
    with open_client(home, url) as client:
        result = client.deps.check(ref, target, environment=environment)
    if json_out:
        print_json(result)
    else:
        _check_output(result)
    if not result.compatible:
        raise typer.Exit(1)


def _resolution_output(result: ResolutionOut) -> None:
    out = _render.console()
    if result.conflicts:
        out.print(f"no set of versions satisfies every model (python {result.python}, "
                  f"{result.platform}):", markup=False)
        for conflict in result.conflicts:
            out.print(f"- {conflict.message}", markup=False, soft_wrap=True)
        return
    table = Table(title=f"python {result.python} on {result.platform}")
    table.add_column("package", no_wrap=True)
    table.add_column("version", no_wrap=True)
    table.add_column("required by", overflow="fold")
    for name, version in result.pins.items():
        demands = result.required_by.get(name, [])
        table.add_row(name, version, "; ".join(d.text for d in demands))
    out.print(table)
    if result.unknown_dependencies:
        out.print("dependencies not checked (known only from environments): "
                  + ", ".join(result.unknown_dependencies), markup=False, style="dim")


@deps_app.command("resolve")
@handles_errors
def resolve(
    refs: list[str] = typer.Argument(..., help="Model versions to serve from one image."),
    index: IndexOption = None,
    python: PythonOption = None,
    platform: PlatformOption = "linux",
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """One version of each package for several model versions; exit 1 on a conflict,
    with the constraints that clash and the models they come from."""
    with open_client(home, url) as client:
        result = client.deps.resolve(refs, index=index, python=python, platform=platform)
    if json_out:
        print_json(result)
    else:
        _resolution_output(result)
    if not result.ok:
        raise typer.Exit(1)


def _chain_text(chain: list[DemandOut]) -> str:
    return " -> ".join(d.text for d in chain)


def _why_output(result: WhyResult) -> None:
    out = _render.console()
    pinned = f" (resolved to {result.pinned})" if result.pinned else ""
    if not result.direct and not result.chains:
        out.print(f"{result.ref} does not need {result.package}{pinned}", markup=False)
    else:
        out.print(f"{result.ref} needs {result.package}{pinned}:", markup=False)
    for package in result.direct:
        out.print(f"- declared {package.requirement} at {_where(package.origin)}", markup=False)
    for chain in result.chains:
        if len(chain) > 1:
            out.print(f"- through {_chain_text(chain)}", markup=False, soft_wrap=True)
    for message in result.conflicts:
        out.print(f"- no resolution: {message}", markup=False, soft_wrap=True)


@deps_app.command("why")
@handles_errors
def why(
    ref: RefArgument,
    package: str = typer.Argument(..., help="A package name, e.g. numpy."),
    index: IndexOption = None,
    python: PythonOption = None,
    platform: PlatformOption = "linux",
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Why a model version needs a package: where it is declared, and which dependencies
    bring it in (with --index)."""
    with open_client(home, url) as client:
        result = client.deps.why(ref, package, index=index, python=python, platform=platform)
    if json_out:
        print_json(result)
        return
    _why_output(result)
