"""The audit log through the service layer, on both backends: every committed event is a
leaf, proofs for every event of a small log verify against a signed checkpoint, and the
tree grows consistently."""

from __future__ import annotations

import hashlib
import json

import pytest

from modelatlas.errors import InvalidInput, NotFound
from modelatlas.integrity import merkle
from modelatlas.integrity.errors import ProofInvalid
from modelatlas.integrity.note import Verifier
from modelatlas.registry import Registry
from modelatlas.registry.audit_types import unb64
from modelatlas.registry.bulk import bulk_load
from modelatlas.registry.types import AssetCreate, RelationCreate


def _fill(registry: Registry, count: int, prefix: str = "d") -> None:
    for i in range(count):
        registry.create_asset(AssetCreate(ref=f"dataset:audit/{prefix}{i}@1"))


def _event_count(registry: Registry) -> int:
    return registry.audit_checkpoint().size


def test_every_event_of_a_small_log_has_a_verifying_proof(registry: Registry) -> None:
    _fill(registry, 6)
    registry.add_relation(RelationCreate(source="dataset:audit/d1@1", relation="derived_from",
                                         target="dataset:audit/d0@1"))
    checkpoint = registry.audit_checkpoint()
    assert checkpoint.size == 7
    head = checkpoint.verify(registry.audit_public_key())
    assert head.size == 7 and head.root == unb64(checkpoint.root)
    page = registry.events(after=0, limit=100)
    assert len(page.items) == 7
    for event in page.items:
        proof = registry.audit_inclusion_proof(event.seq)
        proof.verify()
        assert proof.checkpoint is not None and proof.checkpoint.root == proof.root
        leaf = json.loads(proof.leaf)
        assert leaf == {"v": 1, "seq": event.seq, "time": event.time, "actor": event.actor,
                        "action": event.action, "target": event.ref, "outcome": "ok",
                        "payload_sha256": event.payload_sha256}
        assert unb64(proof.leaf_hash) == merkle.leaf_hash(proof.leaf.encode())


def test_a_proof_for_a_changed_leaf_is_rejected(registry: Registry) -> None:
    _fill(registry, 3)
    proof = registry.audit_inclusion_proof(2)
    forged = proof.model_copy(update={"leaf": proof.leaf.replace('"ok"', '"denied"')})
    with pytest.raises(ProofInvalid):
        forged.verify()


def test_consistency_between_every_pair_of_sizes(registry: Registry) -> None:
    roots = {}
    for i in range(6):
        _fill(registry, 1, prefix=f"c{i}-")
        checkpoint = registry.audit_checkpoint()
        roots[checkpoint.size] = checkpoint.root
    for old in range(1, 7):
        for new in range(old, 7):
            proof = registry.audit_consistency_proof(old, new)
            assert (proof.from_root, proof.to_root) == (roots[old], roots[new])
            proof.verify()


def test_checkpoints_are_reused_until_the_tree_grows(registry: Registry) -> None:
    _fill(registry, 2)
    first = registry.audit_checkpoint()
    assert registry.audit_checkpoint() == first
    _fill(registry, 1, prefix="more")
    second = registry.audit_checkpoint()
    assert second.size == first.size + 1 and second.signed_note != first.signed_note
    assert second.origin.startswith("modelatlas.local/")
    assert second.signed_note.startswith(f"{second.origin}\n{second.size}\n{second.root}\n\n")


def test_bulk_load_maintains_the_tree(registry: Registry) -> None:
    records = [AssetCreate(ref=f"dataset:bulk/b{i}@1") for i in range(37)]
    stats = bulk_load(registry, records, batch_size=10)
    checkpoint = registry.audit_checkpoint()
    assert checkpoint.size == stats.events == 37
    registry.audit_inclusion_proof(37).verify()
    assert registry.audit_verify().events == 37


def test_the_leaf_digest_covers_the_stored_payload(registry: Registry) -> None:
    _fill(registry, 1)
    event = registry.events(after=0, limit=1).items[0]
    assert hashlib.sha256(json.dumps(event.payload, separators=(",", ":"), sort_keys=True,
                                     ensure_ascii=False).encode()).hexdigest() \
        == event.payload_sha256


def test_bad_requests_name_the_reason(registry: Registry) -> None:
    _fill(registry, 2)
    with pytest.raises(NotFound):
        registry.audit_inclusion_proof(99)
    with pytest.raises(InvalidInput, match="seq"):
        registry.audit_inclusion_proof(0)
    with pytest.raises(InvalidInput, match="tree size"):
        registry.audit_inclusion_proof(2, tree_size=1)
    with pytest.raises(InvalidInput, match="tree size"):
        registry.audit_consistency_proof(1, 5)
    with pytest.raises(InvalidInput, match="from"):
        registry.audit_consistency_proof(0, 2)


def test_the_key_is_kept_in_home_with_private_mode(registry: Registry) -> None:
    key = registry.audit_public_key()
    Verifier.parse(key)
    path = registry.settings.home / "keys" / "audit.key"
    assert path.stat().st_mode & 0o777 == 0o600
    reopened = Registry.open(registry.settings)
    try:
        assert reopened.audit_public_key() == key
    finally:
        reopened.close()


def test_verify_passes_on_an_untouched_log(registry: Registry) -> None:
    _fill(registry, 5)
    registry.audit_checkpoint()
    _fill(registry, 3, prefix="late")
    result = registry.audit_verify()
    assert (result.events, result.checkpoints) == (8, 1)
