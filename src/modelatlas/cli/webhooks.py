"""``modelatlas webhooks create|list|rm|deliveries|worker``: a namespace's webhooks, their
delivery logs, and the worker that delivers them (``modelatlas serve`` runs one too)."""

from __future__ import annotations

import signal
import sys
import threading
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
    open_registry,
    page_json,
    print_json,
)
from modelatlas.registry.webhook_types import Webhook

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(name="webhooks", no_args_is_help=True,
                           help="Webhooks: create (secret shown once), list, rm, deliveries, "
                           "worker.")
app.add_typer(webhooks_app)


@webhooks_app.command("create")
@handles_errors
def create(
    namespace: Annotated[str, typer.Argument(help="The namespace whose events are sent.")],
    url: Annotated[str, typer.Argument(help="The public http(s) URL to POST to.")],
    event: Annotated[list[str] | None, typer.Option(
        "--event", help="An event type (repeat; default every type: *).")] = None,
    description: Annotated[str, typer.Option(help="What the webhook is for.")] = "",
    allow_private: Annotated[bool, typer.Option(
        help="Allow a private target (needs MODELATLAS_WEBHOOK_ALLOW_PRIVATE).")] = False,
    home: HomeOption = None, url_: UrlOption = None, as_json: JsonOption = False,
) -> None:
    """Create a webhook. Its signing secret is printed once: store it now."""
    with open_client(home, url_) as client:
        created = client.webhooks.create(namespace, url, event_types=event or ["*"],
                                         description=description,
                                         allow_private=allow_private)
    sys.stderr.write("warning: this is the only time the signing secret is shown; "
                     "store it now.\n")
    if as_json:
        print_json(created)
        return
    typer.echo(created.secret)
    typer.echo(f"webhook {created.id} for {created.namespace}: "
               f"{','.join(created.event_types)}", err=True)


@webhooks_app.command("list")
@handles_errors
def list_webhooks(namespace: Annotated[str, typer.Argument(help="The namespace.")],
                  home: HomeOption = None, url: UrlOption = None,
                  as_json: JsonOption = False) -> None:
    """The namespace's webhooks (never their secrets)."""
    with open_client(home, url) as client:
        found = client.webhooks.list(namespace)
    if as_json:
        print_json([w.model_dump(mode="json") for w in found])
        return
    _render.console().print(_table(found))


@webhooks_app.command("rm")
@handles_errors
def remove(webhook_id: Annotated[int, typer.Argument(help="The webhook's id.")],
           home: HomeOption = None, url: UrlOption = None) -> None:
    """Delete a webhook and its delivery log."""
    with open_client(home, url) as client:
        gone = client.webhooks.delete(webhook_id)
    typer.echo(f"deleted webhook {gone.id} ({gone.url})")


@webhooks_app.command("deliveries")
@handles_errors
def deliveries(webhook_id: Annotated[int, typer.Argument(help="The webhook's id.")],
               cursor: Annotated[str | None, typer.Option(help="From a previous page.")] = None,
               limit: Annotated[int, typer.Option(min=1, help="Page size.")] = 50,
               home: HomeOption = None, url: UrlOption = None,
               as_json: JsonOption = False) -> None:
    """The webhook's delivery log, newest first."""
    with open_client(home, url) as client:
        page = client.webhooks.deliveries(webhook_id, cursor=cursor, limit=limit)
    if as_json:
        print_json(page_json(list(page.items), page.next_cursor))
        return
    table = Table("id", "event", "type", "status", "attempts", "code", "next attempt", "error")
    for d in page.items:
        table.add_row(str(d.id), str(d.event_seq), d.event_type, d.status, str(d.attempts),
                      str(d.last_status_code or "-"), d.next_attempt_at, d.last_error or "")
    _render.console().print(table)


@webhooks_app.command("worker")
@handles_errors
def worker(once: Annotated[bool, typer.Option(
               "--once", help="One pass (queue what is new, attempt what is due), then exit.")
           ] = False,
           home: HomeOption = None) -> None:
    """Deliver webhooks from the local database (run as many as you like: deliveries are
    leased, so each is attempted by one worker)."""
    registry = open_registry(home)
    try:
        runner = registry.webhook_worker()
        if once:
            result = runner.step()
            typer.echo(f"queued {result.queued}, attempted {result.attempted}, "
                       f"delivered {result.delivered}")
            runner.close()
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            runner.run(stop)
        except KeyboardInterrupt:
            stop.set()
        finally:
            runner.close()
    finally:
        registry.close()


def _table(hooks: list[Webhook]) -> Table:
    table = Table("id", "url", "events", "active", "created by", "description")
    for w in hooks:
        table.add_row(str(w.id), w.url, ",".join(w.event_types), "yes" if w.active else "no",
                      w.created_by, w.description)
    return table
