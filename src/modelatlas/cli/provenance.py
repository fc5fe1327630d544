"""``modelatlas provenance REF``, ``modelatlas prov export REF`` and ``modelatlas metrics
provenance``: where a model version came from, its lineage as W3C PROV, and how
completely each team records provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

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
from modelatlas.errors import InvalidInput
from modelatlas.registry.provenance_types import (
    DataStep,
    ProvenanceFigures,
    ProvenanceMetrics,
    ProvenanceReport,
    RunStep,
    Step,
)

__all__ = ["metrics_app", "prov_app"]

prov_app = typer.Typer(name="prov", no_args_is_help=True,
                       help="W3C PROV: export lineage as PROV-JSON or PROV-O Turtle.")
metrics_app = typer.Typer(name="metrics", no_args_is_help=True,
                          help="Registry metrics: provenance completeness per team.")
app.add_typer(prov_app)
app.add_typer(metrics_app)


def _label(step: Step, extra: str = "") -> Text:
    text = Text(step.ref, style="bold")
    text.append(f"  {step.who}, {step.when}", style="dim")
    if extra:
        text.append(f"  {extra}")
    return text


def _data_label(step: DataStep) -> Text:
    notes = []
    if step.via:
        notes.append(f"via {step.via}")
    if step.current is False:
        notes.append("not the current version")
    return _label(step, "; ".join(notes))


def _run_branch(tree: Tree, run: RunStep) -> None:
    branch = tree.add(Text("run ").append_text(_label(run, run.status or "")))
    for code in run.code:
        branch.add(Text(f"code {code.ref} commit {code.commit or '(none)'}"))
    for env in run.environments:
        branch.add(Text(f"environment {env.ref} {env.digest or ''}".rstrip()))
    branch.add(Text(f"parameters {run.parameters or '(none)'}"))
    branch.add(Text(f"seeds {run.seeds or '(none)'}"))


def _tree(report: ProvenanceReport) -> Tree:
    mv = report.model_version
    tree = Tree(Text("provenance of ").append_text(_label(mv, mv.state)))
    for title, items in (("raw data", report.raw_data), ("features", report.features)):
        branch = tree.add(Text(title, style="cyan"))
        for item in items:
            branch.add(_data_label(item))
        if not items:
            branch.add(Text("(none)", style="dim"))
    for run in report.runs:
        _run_branch(tree, run)
    if not report.runs:
        tree.add(Text("run (none)", style="red"))
    evals = tree.add(Text("evaluations", style="cyan"))
    for ev in report.evaluations:
        verdict = {True: "passed", False: "FAILED", None: ""}[ev.passed]
        node = evals.add(_label(ev, verdict))
        for dataset in ev.datasets:
            node.add(Text("on ").append_text(_data_label(dataset)))
        if ev.fairness_failed:
            node.add(Text(f"fairness failed: {', '.join(ev.fairness_failed)}"))
        if ev.drifted:
            node.add(Text(f"drift: {', '.join(ev.drifted)}"))
    deployments = tree.add(Text("deployments", style="cyan"))
    for dep in report.deployments:
        deployments.add(_label(dep, " ".join(filter(None, (dep.state, dep.environment)))))
    return tree


@app.command("provenance")
@handles_errors
def provenance(
    ref: Annotated[str, typer.Argument(help="a model version, e.g. model_version:fraud/churn@7")],
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Where a model version came from: raw data -> features -> run (code, environment,
    parameters, seeds) -> evaluations -> deployments, and what is missing."""
    with open_client(home, url) as client:
        report = client.provenance.report(ref)
    if json_out:
        print_json(report)
        return
    out = _render.console()
    out.print(_tree(report))
    status = "complete" if report.complete else "INCOMPLETE"
    out.print(f"lineage {status} ({report.completeness:.0%} of checks); "
              f"{'validated' if report.validated else 'NOT validated'} on current data",
              markup=False)
    if report.missing:
        out.print("missing:", markup=False)
        for gap in report.missing:
            out.print(f"  - [{gap.area}] {gap.step}: {gap.message}", markup=False)


@prov_app.command("export")
@handles_errors
def export(
    ref: Annotated[str, typer.Argument(help="any asset ref")],
    format: Annotated[str, typer.Option("--format", help="json or turtle")] = "json",
    direction: Annotated[str, typer.Option("--direction",
                                           help="upstream, downstream or both")] = "both",
    depth: Annotated[int, typer.Option("--depth", help="hops from the asset")] = 3,
    output: Annotated[Path | None, typer.Option("-o", "--output", dir_okay=False,
                                                show_default=False,
                                                help="write here instead of stdout")] = None,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """The lineage subgraph around an asset as PROV-JSON or PROV-O Turtle."""
    with open_client(home, url) as client:
        text = client.provenance.export(ref, format=format, direction=direction, depth=depth)
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput.at(str(output), f"cannot write: {exc}") from None


def _metrics_table(metrics: ProvenanceMetrics) -> Table:
    table = Table(title="provenance per team", title_justify="left")
    for column in ("team", "versions", "lineage complete", "validated", "run", "data",
                   "code commit", "environment", "seeds"):
        table.add_column(column, justify="left" if column == "team" else "right")
    rows: list[tuple[str, ProvenanceFigures]] = [(t.namespace, t) for t in metrics.teams]
    if metrics.namespace is None:
        rows.append(("(all)", metrics.total))
    for name, f in rows:
        table.add_row(name, str(f.model_versions),
                      f"{f.lineage_completeness:.1%} ({f.complete})",
                      f"{f.validation_coverage:.1%} ({f.validated})",
                      str(f.with_run), str(f.with_data), str(f.with_code_commit),
                      str(f.with_environment), str(f.with_seeds))
    return table


@metrics_app.command("provenance")
@handles_errors
def metrics_provenance(
    namespace: Annotated[str | None, typer.Option("--namespace", show_default=False,
                                                  help="one team")] = None,
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Lineage completeness (data -> run -> model with code commit, environment and
    seeds) and validation coverage (evaluated on the current dataset version) per team."""
    with open_client(home, url) as client:
        metrics = client.provenance.metrics(namespace)
    if json_out:
        print_json(metrics)
    else:
        _render.console().print(_metrics_table(metrics))
