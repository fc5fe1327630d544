"""The wire shapes of the audit log: signed checkpoints, inclusion and consistency proofs,
and the result of a verification. Hashes travel as standard base64 (as in checkpoints);
``leaf`` is the leaf's exact bytes as text (format in docs/audit.md), so a client can check
every field of the event it was shown against the proof."""

from __future__ import annotations

import base64

from pydantic import BaseModel, Field

from modelatlas.integrity import merkle
from modelatlas.integrity.note import Checkpoint, Verifier, open_checkpoint


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class AuditCheckpoint(BaseModel):
    origin: str
    size: int
    root: str
    signed_note: str
    public_key: str
    created_at: str

    def verify(self, public_key: str | Verifier) -> Checkpoint:
        """Check the signature with a key the caller trusts (never ``self.public_key``
        alone: a server could send any key); return the verified head."""
        verifier = public_key if isinstance(public_key, Verifier) else Verifier.parse(public_key)
        return open_checkpoint(self.signed_note, verifier, origin=self.origin)


class CosignRequest(BaseModel):
    """A witness's co-signed copy of a checkpoint the registry signed, and the witness's
    verifier key (the registry keeps only a signature line it checked with that key)."""

    signed_note: str = Field(max_length=100_000)
    witness_key: str = Field(max_length=1_000)


class InclusionProof(BaseModel):
    """``leaf`` (the event's fields) is withheld (None) from a caller who may not read the
    event: the proof then stands on ``leaf_hash`` alone, which reveals nothing."""

    seq: int
    leaf_index: int
    tree_size: int
    leaf: str | None
    leaf_hash: str
    root: str
    proof: list[str]
    checkpoint: AuditCheckpoint | None = None

    def verify(self) -> None:
        """Raise :class:`~modelatlas.integrity.errors.ProofInvalid` unless the proof ties
        ``leaf`` (or, withheld, ``leaf_hash``) to ``root`` (pair with
        :meth:`AuditCheckpoint.verify` for the root)."""
        leaf = (unb64(self.leaf_hash) if self.leaf is None
                else merkle.leaf_hash(self.leaf.encode()))
        merkle.verify_inclusion(index=self.leaf_index, size=self.tree_size, leaf=leaf,
                                proof=[unb64(p) for p in self.proof], root=unb64(self.root))


class ConsistencyProof(BaseModel):
    from_size: int
    to_size: int
    from_root: str
    to_root: str
    proof: list[str]

    def verify(self) -> None:
        merkle.verify_consistency(old_size=self.from_size, new_size=self.to_size,
                                  old_root=unb64(self.from_root), new_root=unb64(self.to_root),
                                  proof=[unb64(p) for p in self.proof])


class AuditVerification(BaseModel):
    events: int
    checkpoints: int
    last_seq: int
    root: str
    seconds: float
