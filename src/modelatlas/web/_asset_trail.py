"""An asset's audit trail for the pages: its events, each with whether the newest signed
checkpoint covers it and whether its inclusion proof verifies, checked here on the server.

The page never signs a checkpoint (reading one through ``audit_checkpoint`` would, and a
page view must not write): it takes the newest one already signed, checks its signature
with the registry's key, and proves each event against that tree. An event past the
checkpoint is "not yet checkpointed", which is a normal state, not a failure. The leaf is
recomputed from the event as shown, so a "verified" badge means that this very event
(actor, action, time, payload digest) is in the signed log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modelatlas.errors import InvalidInput, ModelAtlasError, NotFound
from modelatlas.governance import Principal
from modelatlas.integrity.errors import ProofInvalid, VerificationFailed
from modelatlas.integrity.leaf import event_leaf_hash
from modelatlas.integrity.note import Checkpoint
from modelatlas.registry import Event, Registry
from modelatlas.registry.audit_types import unb64

TRAIL_LIMIT = 50
Status = Literal["verified", "pending", "failed"]


@dataclass(frozen=True)
class TrailEvent:
    event: Event
    status: Status
    detail: str


@dataclass(frozen=True)
class Trail:
    """One page of an asset's events (oldest first), the checkpoint they were proved
    against (``None``: none signed yet, or its signature failed: ``problem`` says) and the
    cursor of the next page."""

    events: list[TrailEvent]
    checkpoint_size: int | None
    next_cursor: str | None
    problem: str | None = None


def audit_trail(registry: Registry, ref: str, *, principal: Principal,
                cursor: str | None = None) -> Trail:
    """The trail of ``ref`` (404 when the caller may not read it, as ``history`` says)."""
    page = registry.history(ref, cursor=cursor, limit=TRAIL_LIMIT, principal=principal)
    try:
        head = _signed_head(registry, principal)
    except VerificationFailed as exc:
        failed = [TrailEvent(e, "failed", exc.detail) for e in page.items]
        return Trail(failed, None, page.next_cursor, problem=exc.detail)
    events = [_proved(registry, event, head, principal) for event in page.items]
    return Trail(events, head.size if head else None, page.next_cursor)


def _signed_head(registry: Registry, principal: Principal) -> Checkpoint | None:
    """The newest signed checkpoint, its signature checked with the registry's own key
    (raises when it does not verify)."""
    stored = registry.audit_latest_checkpoint(principal=principal)
    if stored is None:
        return None
    return stored.verify(registry.audit_public_key(principal=principal))


def _proved(registry: Registry, event: Event, head: Checkpoint | None,
            principal: Principal) -> TrailEvent:
    if head is None:
        return TrailEvent(event, "pending", "no checkpoint has been signed yet")
    try:
        proof = registry.audit_inclusion_proof(event.seq, tree_size=head.size,
                                               principal=principal)
    except (InvalidInput, NotFound):
        # the service refuses a tree that does not hold the event's leaf yet
        return TrailEvent(event, "pending", f"after checkpoint {head.size}")
    try:
        if unb64(proof.root) != head.root:
            raise ProofInvalid("the proof's root is not the signed checkpoint's")
        shown = event_leaf_hash(event.seq, event.time, event.actor, event.action, event.ref,
                                event.payload_sha256)
        if unb64(proof.leaf_hash) != shown:
            raise ProofInvalid("the logged leaf differs from the event shown")
        proof.verify()
    except (ModelAtlasError, ValueError) as exc:  # ValueError: hashes that are not base64
        return TrailEvent(event, "failed", getattr(exc, "detail", str(exc)))
    return TrailEvent(event, "verified", f"checkpoint {head.size}")
