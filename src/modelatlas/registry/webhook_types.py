"""Wire types of webhooks and their delivery log. No type here carries a webhook's secret
except :class:`WebhookCreated`, answered once by the create call."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeliveryStatus = Literal["pending", "delivering", "delivered", "failed", "dead"]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="http(s) URL the registry POSTs to")
    event_types: list[str] = Field(
        default_factory=lambda: ["*"], max_length=20,
        description="registered, stage_changed, approval_requested, approval_given, "
        "approval_rejected, provenance_changed, needs_revalidation, deprecated, or *")
    description: str = Field(default="", max_length=500)
    active: bool = True
    allow_private: bool = Field(
        default=False, description="allow a loopback or private target (only where the "
        "server's MODELATLAS_WEBHOOK_ALLOW_PRIVATE permits it)")


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = Field(
        default=None, description="paused webhooks are not sent the events of their pause")


class Webhook(BaseModel):
    id: int
    namespace: str
    url: str
    event_types: list[str]
    description: str
    active: bool
    allow_private: bool
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class WebhookCreated(Webhook):
    secret: str = Field(description="the HMAC-SHA256 signing key: shown once, never again")


class WebhookDelivery(BaseModel):
    id: int
    webhook_id: int
    event_seq: int
    event_type: str
    status: DeliveryStatus = Field(
        description="pending (due at next_attempt_at), delivering (leased by a worker), "
        "delivered, failed (will be retried), dead (gave up)")
    attempts: int
    next_attempt_at: str
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: str | None = None
    created_at: str
