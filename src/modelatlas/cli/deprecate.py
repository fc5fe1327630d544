"""``modelatlas deprecate`` (announce, revise, show or withdraw a model version's
deprecation plan) and ``modelatlas report deprecated-deployments``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from modelatlas.cli import _render
from modelatlas.cli._app import app
from modelatlas.cli._common import (
    HomeOption,
    JsonOption,
    UrlOption,
    fail,
    handles_errors,
    open_client,
    page_json,
    print_json,
)
from modelatlas.registry.deprecation_types import DeprecatedDeployment, Deprecation

__all__ = ["report_app"]

report_app = typer.Typer(name="report", no_args_is_help=True,
                         help="Registry-wide reports (what you may read).")
app.add_typer(report_app)


def _print_plan(plan: Deprecation, verb: str) -> None:
    out = _render.console()
    instead = f", use {plan.replacement}" if plan.replacement else ""
    out.print(f"{plan.ref} {verb}: sunset {plan.sunset}{instead} ({plan.reason})",
              markup=False)
    found = ", ".join(f"{c.count} {c.kind}" for c in plan.consumers) or "none"
    out.print(f"consumers notified: {found} in {plan.notified_namespaces} namespace(s)",
              markup=False)


@app.command("deprecate")
@handles_errors
def deprecate(
    ref: Annotated[str, typer.Argument(help="A model version, e.g. model_version:fraud/churn@7")],
    sunset: Annotated[str | None, typer.Option(
        help="When it stops being supported: 2027-03-01 or an ISO time with a zone.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (sent to its consumers).")] = None,
    replacement: Annotated[str | None, typer.Option(
        help="The model version to move to.")] = None,
    withdraw: Annotated[bool, typer.Option(
        "--withdraw", help="Withdraw the plan: the version is no longer deprecated.")] = False,
    show: Annotated[bool, typer.Option("--show", help="Print the current plan.")] = False,
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Deprecate a model version until --sunset and notify what consumes it (deployments
    serving it, versions derived from it, runs that used it); run again to revise the plan.
    The version keeps its stage and keeps serving until the sunset."""
    if withdraw and show:
        raise fail("give --withdraw or --show, not both")
    if not (withdraw or show) and (sunset is None or reason is None):
        raise fail("give --sunset and --reason (or --withdraw, or --show)")
    with open_client(home, url) as client:
        if withdraw:
            plan, verb = client.deprecations.withdraw(ref), "is no longer deprecated"
        elif show:
            plan, verb = client.deprecations.get(ref), "is deprecated"
        else:
            assert sunset is not None and reason is not None  # checked above
            plan = client.deprecations.announce(ref, sunset=sunset, reason=reason,
                                                replacement=replacement)
            verb = "is deprecated"
    if as_json:
        print_json(plan)
    else:
        _print_plan(plan, verb)


def _report_table(items: list[DeprecatedDeployment]) -> Table:
    table = Table("deployment", "state", "serves", "sunset", "days left", "replacement")
    for item in items:
        left = f"{item.days_left} (past)" if item.past_sunset else str(item.days_left)
        table.add_row(item.deployment, item.state, item.version, item.sunset[:10], left,
                      item.replacement or "-")
    return table


@report_app.command("deprecated-deployments")
@handles_errors
def deprecated_deployments(
    cursor: Annotated[str | None, typer.Option(help="The next page's cursor.")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 100,
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Deployments still serving deprecated model versions, those past their sunset
    first."""
    with open_client(home, url) as client:
        page = client.reports.deprecated_deployments(cursor=cursor, limit=limit)
    if as_json:
        print_json(page_json(list(page.items), page.next_cursor))
        return
    out = _render.console()
    if not page.items:
        out.print("no deployment serves a deprecated model version")
        return
    out.print(_report_table(page.items))
    if page.next_cursor:
        out.print(f"(more: modelatlas report deprecated-deployments --cursor "
                  f"{page.next_cursor})", markup=False)
