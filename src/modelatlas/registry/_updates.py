"""The one rule for what an asset update writes: :func:`updated_values` turns an
:class:`AssetUpdate` patch of an asset into the row values ``update_asset`` stores. Other
writers that change an asset inside their own transaction (a card or manifest import
merging metadata) call it too, so every update validates and versions the same way."""

from __future__ import annotations

from typing import Any

from modelatlas.errors import MetadataInvalid
from modelatlas.kinds import SPECS, validate_metadata
from modelatlas.registry._lifecycle import check_stage_patch
from modelatlas.registry._rows import clean_labels, content_digest, merge_patch
from modelatlas.registry._tx import WriteTx, check_custom
from modelatlas.registry._withdrawal import check_state_write
from modelatlas.registry.types import Asset, AssetUpdate

__all__ = ["updated_values"]


def updated_values(tx: WriteTx, current: Asset, patch: AssetUpdate) -> dict[str, Any]:
    """The ``assets`` row values after ``patch`` (JSON merge patches of metadata and custom
    fields, validated; state moves checked; digests recomputed; revision bumped)."""
    spec = SPECS[current.kind]
    meta = current.metadata
    if patch.metadata is not None:
        meta = validate_metadata(current.kind, merge_patch(current.metadata, patch.metadata))
    custom = current.custom
    if patch.custom is not None:
        custom = merge_patch(current.custom, patch.custom)
        check_custom(tx.conn, current.namespace, current.kind, custom, "/custom")
    state = patch.state if patch.state is not None else current.state
    if state not in spec.states:
        raise MetadataInvalid.at("/state", f"one of {', '.join(spec.states)}")
    check_state_write(current.kind, current.state, state)
    check_stage_patch(current.kind, current.state, state)  # stages move by set_stage
    digests = dict(patch.digests) if patch.digests is not None else dict(current.digests)
    if spec.digest_fields and patch.metadata is not None:
        digests["sha256"] = content_digest(meta, spec.digest_fields)
    return {
        "description": patch.description if patch.description is not None
        else current.description,
        "owners": clean_labels(patch.owners, "/owners") if patch.owners is not None
        else current.owners,
        "tags": clean_labels(patch.tags, "/tags") if patch.tags is not None else current.tags,
        "meta": meta,
        "custom": custom,
        "schema_version": spec.schema_version,
        "state": state,
        "digests": digests,
        "revision": current.revision + 1,
        "updated_at": tx.now,
        "updated_by": tx.actor,
    }
