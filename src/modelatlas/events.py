"""Event types: small, stable names for every change the registry commits.

The same record feeds the history of an asset, the ``/events`` feed, and (later) the audit
log's Merkle tree and webhooks. Actions never change meaning once shipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    ASSET_CREATED = "asset.created"
    ASSET_UPDATED = "asset.updated"
    VERSION_REGISTERED = "model_version.registered"
    RELATION_ADDED = "relation.added"
    RELATION_REMOVED = "relation.removed"
    NAMESPACE_SCHEMA_SET = "namespace_schema.set"
    TAXONOMY_TERM_SET = "taxonomy.term_set"
    TAXONOMY_TERM_REMOVED = "taxonomy.term_removed"
    TAXONOMY_SYNONYM_SET = "taxonomy.synonym_set"
    TAXONOMY_SYNONYM_REMOVED = "taxonomy.synonym_removed"
    TAXONOMY_LOADED = "taxonomy.loaded"
    REQUIREMENTS_SET = "requirements.set"
    REVALIDATION_NEEDED = "revalidation.needed"
    REVALIDATION_CLEARED = "revalidation.cleared"
    KEY_REGISTERED = "key.registered"
    KEY_REVOKED = "key.revoked"
    ATTESTATION_STORED = "attestation.stored"
    DATASET_WITHDRAWN = "dataset.withdrawn"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    AUTH_FAILED = "auth.failed"
    ACCESS_DENIED = "access.denied"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    NAMESPACE_POLICY_CHANGED = "namespace.policy_changed"


@dataclass(frozen=True)
class PendingEvent:
    """An event before the store gives it a sequence number and time."""

    action: Action
    ref: str
    payload: dict[str, Any] = field(default_factory=dict)
