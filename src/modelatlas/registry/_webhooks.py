"""The service layer's webhooks, mixed into :class:`Registry`: create (the signing secret is
answered once), list, read, change, delete, the delivery log, and the reads the event
stream polls. Every webhook operation needs ``webhook.manage`` (admin) in the webhook's
namespace; a webhook the caller may not manage is answered as a missing one.

Delivery itself is the worker's (:mod:`modelatlas.registry._webhook_worker`): it reads the
event log, so webhooks work whichever API process committed the event.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.governance.policy import AccessDenied
from modelatlas.governance.principal import Principal
from modelatlas.notify import TargetRefused, check_event_types, new_secret, resolve_target
from modelatlas.refs import check_namespace
from modelatlas.registry._rows import check_limit
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._webhook_worker import WebhookWorker, in_background
from modelatlas.registry.types import Event, Page
from modelatlas.registry.webhook_types import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookUpdate,
)
from modelatlas.store.tables import events, webhook_deliveries, webhooks

MANAGE = "webhook.manage"


class WebhookService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def events(self, *, after: int = 0, limit: int = 100,
                   principal: Principal | None = None) -> Page[Event]: ...

    # webhooks ----------------------------------------------------------------------------
    def create_webhook(self, namespace: str, body: WebhookCreate | Mapping[Any, Any], *,
                       principal: Principal | None = None) -> WebhookCreated:
        """A webhook for ``namespace``'s events. The URL must be a public http(s) address
        (checked now and before each delivery); the answer holds the signing secret, which
        is never shown again. Events committed after this call are delivered."""
        check_namespace(namespace)
        spec = body if isinstance(body, WebhookCreate) else _parse(WebhookCreate, body)
        self.authorize(principal, MANAGE, namespace, ref=f"namespace:{namespace}")
        if spec.allow_private and not self.settings.webhook_allow_private:
            raise InvalidInput.at("/allow_private", "this server does not allow private "
                                  "webhook targets (MODELATLAS_WEBHOOK_ALLOW_PRIVATE)")
        self._check_url(spec.url, spec.allow_private)
        kinds = check_event_types(spec.event_types)
        secret = new_secret()
        with self._write(self.acting(principal, None)) as tx:
            values = {"namespace": namespace, "url": spec.url, "event_types": kinds,
                      "secret": secret, "active": spec.active,
                      "allow_private": spec.allow_private, "description": spec.description,
                      "after_seq": 0, "created_at": tx.now, "created_by": tx.actor,
                      "updated_at": tx.now, "updated_by": tx.actor}
            hook_id = tx.conn.execute(webhooks.insert().values(**values)).inserted_primary_key
            values["id"] = hook_id[0] if hook_id else 0
            # delivered: what commits after this event (the worker compares sequence numbers)
            seq = tx.emit_now(Action.WEBHOOK_CREATED, f"namespace:{namespace}",
                              _event_payload(values), None)
            tx.conn.execute(webhooks.update().where(webhooks.c.id == values["id"])
                            .values(after_seq=seq))
        return WebhookCreated(**_webhook_out(values).model_dump(), secret=secret)

    def webhooks(self, namespace: str, *,
                 principal: Principal | None = None) -> list[Webhook]:
        """The namespace's webhooks (never their secrets)."""
        check_namespace(namespace)
        self.authorize(principal, MANAGE, namespace, ref=f"namespace:{namespace}")
        with self.db.read() as conn:
            rows = conn.execute(sa.select(webhooks).where(webhooks.c.namespace == namespace)
                                .order_by(webhooks.c.id).limit(1000)).mappings().all()
        return [_webhook_out(row) for row in rows]

    def get_webhook(self, webhook_id: int, *,
                    principal: Principal | None = None) -> Webhook:
        return _webhook_out(self._managed(webhook_id, principal))

    def update_webhook(self, webhook_id: int, body: WebhookUpdate | Mapping[Any, Any], *,
                       principal: Principal | None = None) -> Webhook:
        """Change a webhook's URL (checked again), event types, description or whether it
        is active. Its secret stays."""
        spec = body if isinstance(body, WebhookUpdate) else _parse(WebhookUpdate, body)
        row = self._managed(webhook_id, principal)
        changes: dict[str, Any] = spec.model_dump(exclude_none=True)
        if spec.url is not None:
            self._check_url(spec.url, row["allow_private"])
        if spec.event_types is not None:
            changes["event_types"] = check_event_types(spec.event_types)
        with self._write(self.acting(principal, None)) as tx:
            changes.update(updated_at=tx.now, updated_by=tx.actor)
            tx.conn.execute(webhooks.update().where(webhooks.c.id == webhook_id)
                            .values(**changes))
            stored = tx.conn.execute(sa.select(webhooks).where(webhooks.c.id == webhook_id)
                                     ).mappings().one()
            tx.emit(Action.WEBHOOK_UPDATED, f"namespace:{stored['namespace']}",
                    {**_event_payload(stored), "changed": sorted(spec.model_fields_set)},
                    None)
        return _webhook_out(stored)

    def delete_webhook(self, webhook_id: int, *,
                       principal: Principal | None = None) -> Webhook:
        """Delete a webhook and its delivery log; nothing more is sent to it."""
        row = self._managed(webhook_id, principal)
        with self._write(self.acting(principal, None)) as tx:
            tx.conn.execute(webhook_deliveries.delete()
                            .where(webhook_deliveries.c.webhook_id == webhook_id))
            tx.conn.execute(webhooks.delete().where(webhooks.c.id == webhook_id))
            tx.emit(Action.WEBHOOK_DELETED, f"namespace:{row['namespace']}",
                    _event_payload(row), None)
        return _webhook_out(row)

    def webhook_deliveries(self, webhook_id: int, *, cursor: str | None = None,
                           limit: int = 50,
                           principal: Principal | None = None) -> Page[WebhookDelivery]:
        """The webhook's delivery log, newest first."""
        check_limit(limit, self.settings.page_limit_max)
        self._managed(webhook_id, principal)
        table = webhook_deliveries
        query = sa.select(table).where(table.c.webhook_id == webhook_id)
        if cursor is not None:
            query = query.where(table.c.id < _cursor_id(cursor))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(table.c.id.desc()).limit(limit + 1)
                                ).mappings().all()
        items = [WebhookDelivery.model_validate(dict(r)) for r in rows[:limit]]
        more = len(rows) > limit and items
        return Page(items=items, next_cursor=str(items[-1].id) if more else None)

    def webhook_worker(self) -> WebhookWorker:
        """A worker delivering this registry's webhooks (run it, or call its ``step``)."""
        return WebhookWorker(self.db, self.settings)

    @contextmanager
    def webhooks_in_background(self, enabled: bool = True) -> Iterator[None]:
        """Deliver webhooks from a background thread while the block runs (``enabled``
        False: do nothing, so a caller need not branch)."""
        if not enabled:
            yield
            return
        with in_background(self.db, self.settings):
            yield

    # the event stream ---------------------------------------------------------------------
    def last_event_seq(self) -> int:
        """The newest committed event's sequence number (0: none): where a stream with no
        resume point starts."""
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.max(events.c.seq))).scalar() or 0)

    def stream_events(self, after: int, *, limit: int = 100,
                      principal: Principal | None = None) -> tuple[list[Event], int]:
        """The next events after ``after`` the caller may see, and where to resume. Past
        the newest event, the resume point moves over what the caller may not see, so a
        stream does not scan the same unseen events on every poll."""
        newest = self.last_event_seq()  # before the page: every event up to it is committed
        page = self.events(after=after, limit=limit, principal=principal)
        if page.next_cursor is not None:
            return page.items, page.items[-1].seq
        last = page.items[-1].seq if page.items else after
        return page.items, max(last, newest, after)

    # helpers ------------------------------------------------------------------------------
    def _check_url(self, url: str, allow_private: bool) -> None:
        permitted = allow_private and self.settings.webhook_allow_private
        try:
            resolve_target(url, allow_private=permitted)
        except TargetRefused as exc:
            raise InvalidInput(f"the webhook URL cannot be used: {exc.reason}",
                               errors=[FieldError("/url", exc.reason)]) from None

    def _managed(self, webhook_id: int, principal: Principal | None) -> Mapping[Any, Any]:
        """The webhook's row, when the caller may manage it; else 404 (recorded)."""
        with self.db.read() as conn:
            row = conn.execute(sa.select(webhooks).where(webhooks.c.id == webhook_id)
                               ).mappings().first()
        if row is None:
            raise NotFound(f"no webhook {webhook_id}",
                           errors=[FieldError("/webhook_id", "no such webhook")])
        try:
            self.authorize(principal, MANAGE, row["namespace"],
                           ref=f"namespace:{row['namespace']}")
        except AccessDenied:
            raise NotFound(f"no webhook {webhook_id}",
                           errors=[FieldError("/webhook_id", "no such webhook")]) from None
        return row


def _parse(model: type[BaseModel], body: Mapping[Any, Any]) -> Any:
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None


def _cursor_id(cursor: str) -> int:
    if not cursor.isdigit() or len(cursor) > 19:
        raise InvalidInput.at("/cursor", "a cursor from a previous page")
    return int(cursor)


def _event_payload(row: Mapping[Any, Any]) -> dict[str, Any]:
    """What an event records of a webhook: never its secret, and of its URL only the
    origin (a URL's path or query may itself be a credential, e.g. chat-service hooks)."""
    parts = urlsplit(row["url"])
    return {"webhook_id": row["id"], "namespace": row["namespace"],
            "target": f"{parts.scheme}://{parts.netloc}", "event_types": row["event_types"],
            "active": row["active"], "allow_private": row["allow_private"]}


def _webhook_out(row: Mapping[Any, Any]) -> Webhook:
    return Webhook(id=row["id"], namespace=row["namespace"], url=row["url"],
                   event_types=list(row["event_types"]), description=row["description"],
                   active=row["active"], allow_private=row["allow_private"],
                   created_at=row["created_at"], created_by=row["created_by"],
                   updated_at=row["updated_at"], updated_by=row["updated_by"])
