"""Webhooks of a namespace (``webhook.manage``, admin): create (the signing secret is
answered once), list, read, change, delete, and each webhook's delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.types import Page
from modelatlas.registry.webhook_types import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookUpdate,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["webhooks"], responses=PROBLEM_RESPONSES)


@router.post("/namespaces/{namespace}/webhooks", response_model=WebhookCreated,
             status_code=status.HTTP_201_CREATED,
             summary="Create a webhook for the namespace's events (its secret is shown once)")
def create_webhook(namespace: str, body: WebhookCreate, registry: RegistryDep,
                   principal: PrincipalDep) -> WebhookCreated:
    with located(path=("namespace",)):
        return registry.create_webhook(namespace, body, principal=principal)


@router.get("/namespaces/{namespace}/webhooks", response_model=list[Webhook],
            summary="The namespace's webhooks (never their secrets)")
def list_webhooks(namespace: str, registry: RegistryDep,
                  principal: PrincipalDep) -> list[Webhook]:
    with located(path=("namespace",)):
        return registry.webhooks(namespace, principal=principal)


@router.get("/webhooks/{webhook_id}", response_model=Webhook, summary="One webhook")
def get_webhook(webhook_id: int, registry: RegistryDep, principal: PrincipalDep) -> Webhook:
    with located(path=("webhook_id",)):
        return registry.get_webhook(webhook_id, principal=principal)


@router.patch("/webhooks/{webhook_id}", response_model=Webhook,
              summary="Change a webhook's URL, event types, description or activity")
def update_webhook(webhook_id: int, body: WebhookUpdate, registry: RegistryDep,
                   principal: PrincipalDep) -> Webhook:
    with located(path=("webhook_id",)):
        return registry.update_webhook(webhook_id, body, principal=principal)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[WebhookDelivery],
            summary="The webhook's delivery log, newest first")
def webhook_deliveries(
    webhook_id: int, registry: RegistryDep, principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(50))], cursor: str | None = None,
) -> Page[WebhookDelivery]:
    with located(path=("webhook_id",), query=("cursor",)):
        return registry.webhook_deliveries(webhook_id, cursor=cursor, limit=limit,
                                           principal=principal)


# last, so a route sweep that deletes the webhook it was given does so after the others
@router.delete("/webhooks/{webhook_id}", response_model=Webhook,
               summary="Delete a webhook and its delivery log")
def delete_webhook(webhook_id: int, registry: RegistryDep, principal: PrincipalDep) -> Webhook:
    with located(path=("webhook_id",)):
        return registry.delete_webhook(webhook_id, principal=principal)
