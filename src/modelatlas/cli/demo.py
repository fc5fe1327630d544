"""``demo``: fill the local registry with the demo organisation, with a progress bar."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from modelatlas import demo as demo_org
from modelatlas.cli._app import app
from modelatlas.cli._common import HomeOption, handles_errors, open_registry
from modelatlas.cli._render import console


@app.command()
@handles_errors
def demo(
    if_empty: bool = typer.Option(False, "--if-empty",
                                  help="Do nothing when the registry already has assets."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same organisation."),
    home: HomeOption = None,
) -> None:
    """Seed the local registry with a demo organisation: teams, data, models, deployments."""
    out = console()
    registry = open_registry(home)
    try:
        registry.ensure_default_vocabulary()  # a no-op when the registry has a vocabulary
        if if_empty and not demo_org.is_empty(registry):
            typer.echo("the registry already holds assets; nothing seeded")
            return
        with Progress(TextColumn("seeding demo"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=out, transient=True) as bar:
            task = bar.add_task("seed", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = demo_org.seed(registry, seed=seed, progress=advance)
    finally:
        registry.close()
    table = Table(title=f"demo organisation (seed {summary.seed})", title_justify="left")
    table.add_column("kind")
    table.add_column("assets", justify="right")
    for kind, count in summary.assets.items():
        table.add_row(kind, str(count))
    table.add_row("relations", str(summary.relations), style="dim")
    out.print(table)
    out.print(f"teams: {', '.join(summary.namespaces)}")
