"""``client.audit``: signed checkpoints and proofs, verified here, and the client-side
trust that holds the registry's log to account (docs/audit.md, "Clients hold the log to
account").

Every call that fetches a checkpoint goes through :meth:`AuditAPI.check`: the checkpoint
must be signed by the pinned key (configured, or the key seen on first use) and by every
required witness, and must extend the checkpoint held from the last contact (a
consistency proof checked against the *held* root). Only then is it held instead. The
held state is one small file per registry in the trust directory
(:func:`modelatlas.integrity.trust.default_trust_dir`). Creating a client does not contact
the registry's log: only audit calls do, so clients that never look at the log pay
nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from modelatlas.client._transport import _Transport
from modelatlas.errors import FieldError, NotFound
from modelatlas.integrity import merkle
from modelatlas.integrity.errors import KeyMismatch, LogInconsistent, VerificationFailed
from modelatlas.integrity.leaf import leaf_data
from modelatlas.integrity.note import Checkpoint, Signer, Verifier
from modelatlas.integrity.trust import Advance, Held, TrustStore, advance
from modelatlas.integrity.witness import cosign, split_note
from modelatlas.jsonsafe import canonical
from modelatlas.registry import Event
from modelatlas.registry.audit_types import (
    AuditCheckpoint,
    ConsistencyProof,
    CosignRequest,
    InclusionProof,
    b64,
    unb64,
)


class AuditCheck(BaseModel):
    """What one contact established: the registry's log at ``location`` is at ``size``
    with ``root``, signed by ``public_key``, and extends what was held before
    (``previous_size``; None on first use)."""

    location: str
    origin: str
    size: int
    root: str
    previous_size: int | None
    public_key: str
    first_use: bool
    witnesses: list[str]
    signed_note: str


class AuditAPI:
    """``client.audit``: the registry's audit log, checked against what this client saw
    before. :meth:`configure` pins keys and chooses where the held state lives."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport
        self._store: TrustStore | None = None
        self._pinned: str | None = None
        self._witnesses: tuple[Verifier, ...] = ()

    def configure(self, *, trust_dir: str | Path | None = None, public_key: str | None = None,
                  witness_keys: Sequence[str] = ()) -> AuditAPI:
        """Hold state in ``trust_dir`` (default: ``MODELATLAS_TRUST_DIR``, else
        ``~/.config/modelatlas/checkpoints``); pin the log's ``public_key`` instead of
        trusting the first one seen; require a cosignature by each of ``witness_keys``."""
        if trust_dir is not None:
            self._store = TrustStore(Path(trust_dir))
        if public_key is not None:
            self._pinned = str(Verifier.parse(public_key))
        self._witnesses = tuple(Verifier.parse(key) for key in witness_keys)
        return self

    @property
    def store(self) -> TrustStore:
        if self._store is None:
            self._store = TrustStore()
        return self._store

    @property
    def location(self) -> str:
        """Which registry the held state belongs to (its URL, or its database)."""
        return self._t.audit_location()

    def public_key(self) -> str:
        """The key the registry says it signs with (pin it out of band: a server can
        send any key; :meth:`check` uses the pinned one)."""
        return self._t.audit_public_key()

    def check(self, *, repin: bool = False) -> AuditCheck:
        """Fetch the checkpoint, verify it against the pinned key, witnesses and the held
        checkpoint, and hold it. ``repin`` accepts a configured key that differs from the
        held one (a deliberate rotation); consistency is still checked."""
        served, done = self._advance(repin=repin)
        return AuditCheck(location=self.location, origin=done.served.origin,
                          size=done.held.size, root=b64(done.held.root),
                          previous_size=None if done.previous is None else done.previous.size,
                          public_key=done.public_key, first_use=done.first_use,
                          witnesses=[str(w) for w in self._witnesses],
                          signed_note=served.signed_note)

    def checkpoint(self) -> AuditCheckpoint:
        """The registry's newest checkpoint (with witnesses configured: the newest one
        they co-signed), checked as :meth:`check` does."""
        return self._advance()[0]

    def _advance(self, *, repin: bool = False) -> tuple[AuditCheckpoint, Advance]:
        served = self._t.audit_checkpoint([w.name for w in self._witnesses])
        done = advance(self.store, self.location, served.signed_note,
                       served_key=served.public_key, prove=self._prove,
                       pinned_key=self._pinned, witnesses=self._witnesses, repin=repin)
        verified = done.served
        if (served.origin, served.size, served.root) != (
                verified.origin, verified.size, b64(verified.root)):
            raise KeyMismatch("the checkpoint's fields differ from its signed note",
                              errors=[FieldError("/signed_note", "fields differ")])
        return served, done

    def _prove(self, small: int, large: int) -> list[bytes]:
        return [unb64(p) for p in self._t.audit_consistency_proof(small, large).proof]

    def inclusion_proof(self, seq: int, *, tree_size: int | None = None) -> InclusionProof:
        """An inclusion proof of event ``seq``, verified against its own root (pair it
        with a checked checkpoint, or use :meth:`verify_event`)."""
        proof = self._t.audit_inclusion_proof(seq, tree_size)
        proof.verify()
        return proof

    def consistency_proof(self, from_size: int, to_size: int | None = None) -> ConsistencyProof:
        """A consistency proof between two sizes, verified against the roots it names."""
        proof = self._t.audit_consistency_proof(from_size, to_size)
        proof.verify()
        return proof

    def verify_event(self, seq: int) -> Event:
        """Event ``seq``, proven to be in the checked checkpoint: every field of the event
        matches its leaf, the payload matches its digest, and the leaf is in the tree the
        held checkpoint signs."""
        held = self._advance()[1].held
        proof = self._t.audit_inclusion_proof(seq, held.size)
        proof.verify()
        if proof.tree_size != held.size or proof.root != b64(held.root):
            raise VerificationFailed(f"the proof of event {seq} is not for the checked "
                                     f"checkpoint at size {held.size}", first_bad_seq=seq,
                                     errors=[FieldError("/root", "not the checked root")])
        page = self._t.events(seq - 1, 1)
        if not page.items or page.items[0].seq != seq:
            raise NotFound(f"no event {seq} in the event feed",
                           errors=[FieldError("/seq", "no such event")])
        event = page.items[0]
        leaf = leaf_data(seq=event.seq, time=event.time, actor=event.actor,
                         action=event.action, target=event.ref,
                         payload_sha256=event.payload_sha256)
        digest = hashlib.sha256(canonical(event.payload)).hexdigest()
        # a caller who may not read the event gets the proof without its leaf: what was
        # proven is then the leaf hash, and the event as served must hash to it
        proven = (unb64(proof.leaf_hash) if proof.leaf is None
                  else merkle.leaf_hash(proof.leaf.encode()))
        if merkle.leaf_hash(leaf) != proven or digest != event.payload_sha256:
            raise VerificationFailed(f"event {seq} as served does not match its leaf in "
                                     "the log", first_bad_seq=seq,
                                     errors=[FieldError("/leaf", "event differs from leaf")])
        return event

    def witness(self, signed_note: str, *, witness: Signer, state: TrustStore,
                log_key: str | None = None, upload: bool = True) -> str:
        """Act as a witness for this registry's log: check ``signed_note`` (fetched from
        wherever the log publishes) against the witness's own last co-signed checkpoint in
        ``state`` (consistency proofs come from this registry), co-sign it, hold the
        co-signed note, and (``upload``) give it to the registry. ``log_key`` pins the
        log's key; without it the registry's is trusted on first use. Return the note."""
        origin = Checkpoint.parse(split_note(signed_note)[0]).origin
        location = f"witness:{origin}"
        done = advance(state, location, signed_note, served_key=log_key or self.public_key(),
                       prove=self._prove, pinned_key=log_key)
        if done.held is not done.served:
            raise LogInconsistent(f"the checkpoint at size {done.served.size} is older than "
                                  f"the one this witness co-signed ({done.held.size})",
                                  errors=[FieldError("/signed_note", "older than held")])
        cosigned = cosign(signed_note, log_key=Verifier.parse(done.public_key),
                          witness=witness)
        with state.locked(location):
            state.save(Held(location, done.public_key, cosigned))
        if upload:
            self.cosign(cosigned, str(witness.verifier))
        return cosigned

    def cosign(self, signed_note: str, witness_key: str) -> AuditCheckpoint:
        """Give the registry a witness's co-signed copy of one of its checkpoints."""
        return self._t.audit_cosign(CosignRequest(signed_note=signed_note,
                                                  witness_key=witness_key))
