"""``modelatlas policy check REF``: the pipeline checks of a model version (dependencies,
lineage, signature, revalidation) with an exit status a CI job can act on.

Exit status: 0 when every check passes (skipped ones do not fail), 1 when one fails, 2
for a usage error or a registry that refuses or cannot be reached."""

from __future__ import annotations

import typer
from rich.table import Table

from modelatlas.cli._app import app
from modelatlas.cli._common import HomeOption, JsonOption, UrlOption, open_client, print_json
from modelatlas.cli._render import console
from modelatlas.cli.import_catalog import usage_errors_exit_2

__all__ = ["policy_app"]

policy_app = typer.Typer(name="policy", no_args_is_help=True,
                         help="Pipeline policy checks (exit status for CI).")
app.add_typer(policy_app)


@policy_app.command("check")
@usage_errors_exit_2
def check(
    ref: str = typer.Argument(..., help="model_version:NAMESPACE/NAME@N"),
    environment: str | None = typer.Option(
        None, "--environment", help="Environment (or deployment) ref for the dependency "
        "check; default: the namespace promotion policy's deps_target."),
    json_out: JsonOption = False,
    home: HomeOption = None,
    url: UrlOption = None,
) -> None:
    """Check a model version: dependencies, lineage, signature, revalidation. Exit 0 all
    pass, 1 a check failed, 2 usage or registry error."""
    with open_client(home, url) as client:
        result = client.integrations.policy_check(ref, environment=environment)
    if json_out:
        print_json(result)
    else:
        table = Table(title=result.ref, title_justify="left")
        for column in ("check", "status", "detail"):
            table.add_column(column)
        for item in result.checks:
            table.add_row(item.name, item.status, item.detail)
        console().print(table)
    if not result.passed:
        raise typer.Exit(1)
