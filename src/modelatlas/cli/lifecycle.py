"""``modelatlas lifecycle stage|approve|reject|comment|reviews|status|inbox|policy|set-policy``:
stages, approvals and promotion policies of model versions (docs/governance.md)."""

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
from modelatlas.registry.lifecycle_types import ApprovalResult, PromotionPolicyOut

__all__ = ["lifecycle_app"]

lifecycle_app = typer.Typer(name="lifecycle", no_args_is_help=True,
                            help="Stages, approvals and promotion policies of model versions.")
app.add_typer(lifecycle_app)

RefArg = Annotated[str, typer.Argument(help="A model version, e.g. model_version:fraud/churn@3.")]
CommentOption = Annotated[str, typer.Option("--comment", help="Why, recorded with it.")]


@lifecycle_app.command("stage")
@handles_errors
def stage(
    ref: RefArg,
    to: Annotated[str, typer.Argument(help="none, staging, production or archived.")],
    release_notes: Annotated[str | None, typer.Option(
        "--release-notes", help="Recorded with the change.")] = None,
    comment: Annotated[str | None, typer.Option("--comment")] = None,
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Move a version to another stage. A promotion the namespace's policy does not allow
    yet fails, listing what is missing, and asks the approvers."""
    with open_client(home, url) as client:
        moved = client.lifecycle.set_stage(ref, to, release_notes=release_notes,
                                           comment=comment)
    if as_json:
        print_json(moved)
        return
    typer.echo(f"{moved.ref} is now {moved.state}")


def _decided(result: ApprovalResult, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    review = result.review
    counted = "" if result.counted else " (already approved by this person: counts once)"
    typer.echo(f"{review.kind} of {review.ref} by {review.person} recorded{counted}")
    if result.promoted:
        typer.echo(f"{review.ref} is now {result.stage}")


@lifecycle_app.command("approve")
@handles_errors
def approve(ref: RefArg, comment: CommentOption = "", home: HomeOption = None,
            url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Approve a version (not one you or your run authored)."""
    with open_client(home, url) as client:
        _decided(client.lifecycle.approve(ref, comment=comment), as_json)


@lifecycle_app.command("reject")
@handles_errors
def reject(ref: RefArg, comment: CommentOption = "", home: HomeOption = None,
           url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Reject a version: it blocks promotion until you approve it again."""
    with open_client(home, url) as client:
        _decided(client.lifecycle.reject(ref, comment=comment), as_json)


@lifecycle_app.command("comment")
@handles_errors
def comment(ref: RefArg, body: Annotated[str, typer.Argument(help="The comment.")],
            home: HomeOption = None, url: UrlOption = None,
            as_json: JsonOption = False) -> None:
    """Comment on a version."""
    with open_client(home, url) as client:
        review = client.lifecycle.comment(ref, body)
    if as_json:
        print_json(review)
        return
    typer.echo(f"comment {review.id} on {review.ref} recorded")


@lifecycle_app.command("reviews")
@handles_errors
def reviews(ref: RefArg, kind: Annotated[str | None, typer.Option(
                help="approval, rejection, comment, release_note or request.")] = None,
            limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
            home: HomeOption = None, url: UrlOption = None,
            as_json: JsonOption = False) -> None:
    """A version's approvals, rejections, comments, release notes and requests."""
    with open_client(home, url) as client:
        page = client.lifecycle.reviews(ref, kind=kind, limit=limit)
    if as_json:
        print_json(page)
        return
    table = Table("id", "kind", "person", "stage", "when", "text")
    for r in page.items:
        table.add_row(str(r.id), r.kind, r.person, r.stage or "-", r.created_at, r.body)
    _render.console().print(table)


@lifecycle_app.command("status")
@handles_errors
def status(ref: RefArg, home: HomeOption = None, url: UrlOption = None,
           as_json: JsonOption = False) -> None:
    """What promoting the version to production needs: met and missing."""
    with open_client(home, url) as client:
        found = client.lifecycle.promotion(ref)
    if as_json:
        print_json(found)
        return
    typer.echo(f"{found.ref}: {found.stage}; "
               f"{'ready for production' if found.ready else 'not ready for production'}")
    for c in found.conditions:
        typer.echo(f"  [{'x' if c.met else ' '}] {c.name}: {c.detail}")


@lifecycle_app.command("inbox")
@handles_errors
def inbox(namespace: Annotated[str | None, typer.Option(
              "--namespace", help="Only this namespace's requests.")] = None,
          limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
          home: HomeOption = None, url: UrlOption = None,
          as_json: JsonOption = False) -> None:
    """Open promotion requests you may review, newest first."""
    with open_client(home, url) as client:
        page = client.lifecycle.inbox(namespace=namespace, limit=limit)
    if as_json:
        print_json(page)
        return
    if not page.items:
        typer.echo("no open promotion requests for you to review")
        return
    table = Table("ref", "stage", "to", "asked by", "when", "note")
    for r in page.items:
        note = "you authored this: you may not approve it" if r.authored_by_you else r.comment
        table.add_row(r.ref, r.stage, r.requested_stage, r.requested_by, r.requested_at, note)
    _render.console().print(table)


def _policy_out(policy: PromotionPolicyOut, as_json: bool) -> None:
    if as_json:
        print_json(policy)
        return
    typer.echo(f"{policy.namespace}: {policy.required_approvals} approvals, "
               f"passing evaluation {'required' if policy.require_passing_evaluation else 'no'}"
               f", verified attestation "
               f"{'required' if policy.require_verified_attestation else 'no'}, clean deps "
               f"{'on ' + str(policy.deps_target) if policy.require_clean_deps else 'no'}")


@lifecycle_app.command("policy")
@handles_errors
def policy(namespace: Annotated[str, typer.Argument(help="The namespace.")],
           home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """The namespace's promotion policy."""
    with open_client(home, url) as client:
        _policy_out(client.lifecycle.policy(namespace), as_json)


@lifecycle_app.command("set-policy")
@handles_errors
def set_policy(
    namespace: Annotated[str, typer.Argument(help="The namespace.")],
    approvals: Annotated[int, typer.Option(help="Distinct approvers needed (0-10).")] = 0,
    evaluation: Annotated[bool, typer.Option(
        "--evaluation", help="Require a passing evaluation.")] = False,
    attestation: Annotated[bool, typer.Option(
        "--attestation", help="Require a verified attestation.")] = False,
    deps_target: Annotated[str | None, typer.Option(
        "--deps-target", help="Require a clean dependency check against this "
                              "environment ref.")] = None,
    home: HomeOption = None, url: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Replace the namespace's promotion policy (admin)."""
    with open_client(home, url) as client:
        updated = client.lifecycle.set_policy(
            namespace, required_approvals=approvals, require_passing_evaluation=evaluation,
            require_verified_attestation=attestation,
            require_clean_deps=deps_target is not None, deps_target=deps_target)
    _policy_out(updated, as_json)
