"""Notifications: what a webhook subscribes to, how a delivery is signed, and which targets
a registry may call. Pure logic, no storage and no HTTP server: the worker that delivers
lives in the service layer (``modelatlas.registry._webhook_worker``), receivers verify
with :func:`verify_signature`."""

from modelatlas.notify.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureInvalid,
    new_secret,
    sign,
    verify_signature,
)
from modelatlas.notify.subscriptions import EVENT_TYPES, check_event_types, event_type_of
from modelatlas.notify.targets import TargetRefused, check_target, resolve_target

__all__ = [
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureInvalid",
    "TargetRefused",
    "check_event_types",
    "check_target",
    "event_type_of",
    "new_secret",
    "resolve_target",
    "sign",
    "verify_signature",
]
