"""``client.webhooks``: a namespace's webhooks and their delivery logs. Receivers verify a
delivery with :func:`modelatlas.client.verify_signature`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelatlas.client._transport import _given, _Transport, _validated
from modelatlas.registry.types import Page
from modelatlas.registry.webhook_types import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookUpdate,
)


class WebhooksAPI:
    """``client.webhooks``: create (the secret is in the answer, once), list, get, update,
    delete, deliveries."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def create(self, namespace: str, url: str, *, event_types: Sequence[str] = ("*",),
               description: str = "", active: bool = True,
               allow_private: bool = False) -> WebhookCreated:
        body = _validated(WebhookCreate, {
            "url": url, "event_types": list(event_types), "description": description,
            "active": active, "allow_private": allow_private})
        return self._t.create_webhook(namespace, body)

    def list(self, namespace: str) -> list[Webhook]:
        return self._t.webhooks(namespace)

    def get(self, webhook_id: int) -> Webhook:
        return self._t.get_webhook(webhook_id)

    def update(self, webhook_id: int, *, url: str | None = None,
               event_types: Sequence[str] | None = None, description: str | None = None,
               active: bool | None = None) -> Webhook:
        fields: dict[str, Any] = _given(
            url=url, event_types=None if event_types is None else list(event_types),
            description=description, active=active)
        return self._t.update_webhook(webhook_id, _validated(WebhookUpdate, fields))

    def delete(self, webhook_id: int) -> Webhook:
        return self._t.delete_webhook(webhook_id)

    def deliveries(self, webhook_id: int, *, cursor: str | None = None,
                   limit: int = 50) -> Page[WebhookDelivery]:
        return self._t.webhook_deliveries(webhook_id, _given(cursor=cursor, limit=limit))
