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
    # lifecycle and approvals (issue 7 item 3)
    STAGE_CHANGED = "version.stage_changed"
    PROMOTION_POLICY_CHANGED = "namespace.promotion_policy_changed"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_GIVEN = "approval.given"
    APPROVAL_REJECTED = "approval.rejected"
    REVIEW_COMMENTED = "review.commented"
    ALIAS_SET = "alias.set"
    ALIAS_REMOVED = "alias.removed"
    LINEAGE_CHANGE_REQUESTED = "lineage_change.requested"
    LINEAGE_CHANGE_APPLIED = "lineage_change.applied"
    LINEAGE_CHANGE_REJECTED = "lineage_change.rejected"
    # deprecation (item 4)
    VERSION_DEPRECATED = "version.deprecated"
    DEPRECATION_NOTICE = "deprecation.notice"
    DEPRECATION_WITHDRAWN = "version.undeprecated"
    # notifications (item 5)
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_DELETED = "webhook.deleted"
    # encryption at rest (item 6)
    SENSITIVE_FIELDS_SET = "namespace.sensitive_fields_set"
    KEYS_ROTATED = "keys.rotated"
    # artifacts (item 7)
    ARTIFACT_STORED = "artifact.stored"


@dataclass(frozen=True)
class PendingEvent:
    """An event before the store gives it a sequence number and time."""

    action: Action
    ref: str
    payload: dict[str, Any] = field(default_factory=dict)
