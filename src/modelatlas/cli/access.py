"""``modelatlas access grant|revoke|list|policy|sensitive``: roles namespaces grant to users, groups
and API tokens (namespace ``*``: registry-wide), and a namespace's access rules."""

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
    handles_errors,
    open_client,
    print_json,
)
from modelatlas.registry.access_types import NamespacePolicyOut, RoleGrant

__all__ = ["access_app"]

access_app = typer.Typer(name="access", no_args_is_help=True,
                         help="Roles (viewer, contributor, maintainer, admin) and access rules.")
app.add_typer(access_app)

NamespaceArg = Annotated[str, typer.Argument(
    help="the namespace (team), e.g. fraud; '*' for registry-wide")]
TypeArg = Annotated[str, typer.Argument(help="user, group or token")]
NameArg = Annotated[str, typer.Argument(help="the person, the group, or the token id")]


def _grant_line(grant: RoleGrant) -> str:
    return f"{grant.principal_type} {grant.principal_name} is {grant.role} in {grant.namespace}"


@access_app.command("grant")
@handles_errors
def grant(namespace: NamespaceArg, principal_type: TypeArg, name: NameArg,
          role: Annotated[str, typer.Argument(help="viewer, contributor, maintainer or admin")],
          json_out: JsonOption = False, home: HomeOption = None, url: UrlOption = None) -> None:
    """Grant a role (replacing the one the principal held in the namespace)."""
    with open_client(home, url) as client:
        made = client.access.grant(namespace, principal_type, name, role)
    if json_out:
        print_json(made)
    else:
        typer.echo(_grant_line(made))


@access_app.command("revoke")
@handles_errors
def revoke(namespace: NamespaceArg, principal_type: TypeArg, name: NameArg,
           home: HomeOption = None, url: UrlOption = None) -> None:
    """Take a principal's role in the namespace away."""
    with open_client(home, url) as client:
        removed = client.access.revoke(namespace, principal_type, name)
    typer.echo(f"revoked: {removed.principal_type} {removed.principal_name} was "
               f"{removed.role} in {removed.namespace}")


@access_app.command("list")
@handles_errors
def list_grants(namespace: NamespaceArg, json_out: JsonOption = False,
                home: HomeOption = None, url: UrlOption = None) -> None:
    """Who holds which role in the namespace."""
    with open_client(home, url) as client:
        grants = client.access.grants(namespace)
    if json_out:
        print_json([g.model_dump(mode="json") for g in grants])
        return
    table = Table(title=f"roles in {namespace}", title_justify="left")
    for column in ("type", "name", "role", "granted"):
        table.add_column(column)
    for g in grants:
        table.add_row(g.principal_type, g.principal_name, g.role,
                      f"{g.created_at} {g.created_by}")
    _render.console().print(table)


@access_app.command("policy")
@handles_errors
def policy(
    namespace: Annotated[str, typer.Argument(help="the namespace (team), e.g. fraud")],
    protect: Annotated[list[str] | None, typer.Option(
        "--protect", help="an alias only maintainers may point (repeat; replaces the list)",
        show_default=False)] = None,
    no_protected: Annotated[bool, typer.Option(
        "--no-protected", help="protect no alias")] = False,
    promoted_only: Annotated[bool | None, typer.Option(
        "--promoted-only/--all-versions", show_default=False,
        help="viewers and contributors see only versions tagged promoted")] = None,
    json_out: JsonOption = False, home: HomeOption = None, url: UrlOption = None,
) -> None:
    """Show the namespace's access rules; with options, change them (what is not given
    stays as it is)."""
    with open_client(home, url) as client:
        current = client.access.policy(namespace)
        if protect or no_protected or promoted_only is not None:
            aliases = [] if no_protected else (protect or current.protected_aliases)
            current = client.access.set_policy(
                namespace, protected_aliases=aliases,
                contributors_read_promoted_only=(
                    current.contributors_read_promoted_only if promoted_only is None
                    else promoted_only))
    if json_out:
        print_json(current)
    else:
        typer.echo(_policy_line(current))


def _policy_line(found: NamespacePolicyOut) -> str:
    aliases = ", ".join(found.protected_aliases) or "none"
    reads = ("promoted versions only below maintainer" if found.contributors_read_promoted_only
             else "every version")
    return f"{found.namespace}: protected aliases {aliases}; readers see {reads}"


@access_app.command("sensitive")
@handles_errors
def sensitive(
    namespace: Annotated[str, typer.Argument(help="the namespace (team), e.g. fraud")],
    kind: Annotated[str, typer.Argument(help="the kind, e.g. model_version")],
    field: Annotated[list[str] | None, typer.Option(
        "--field", help="metadata.<key> or custom.<key> to keep sealed (repeat; replaces "
        "the list)", show_default=False)] = None,
    clear: Annotated[bool, typer.Option("--clear", help="seal no field")] = False,
    json_out: JsonOption = False, home: HomeOption = None, url: UrlOption = None,
) -> None:
    """Show the kind's sensitive fields in the namespace (encrypted at rest, shown only to
    callers with sensitive.read); with --field or --clear, replace them."""
    with open_client(home, url) as client:
        if field or clear:
            fields = [] if clear else field or []
            found = client.access.set_sensitive_fields(namespace, kind, fields)
        else:
            found = client.access.sensitive_fields(namespace, kind)
    if json_out:
        print_json(found)
    else:
        typer.echo(f"{found.namespace} {found.kind}: sensitive "
                   f"{', '.join(found.fields) or 'none'}")
