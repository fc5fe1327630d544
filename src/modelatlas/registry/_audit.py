"""The service layer's audit log operations, mixed into :class:`Registry`: signed
checkpoints, inclusion and consistency proofs, verification and export.

The tree itself is maintained by :class:`~modelatlas.registry._tx.WriteTx` in every write
transaction (:mod:`modelatlas.integrity.log`). Checkpoints are signed on demand: reading
the checkpoint signs a new one when the tree has grown since the last, so a writer that
needs its change covered by a signed head asks for the checkpoint after its write returns
(docs/audit.md, "Waiting for a checkpoint").

Access. Checkpoints, consistency proofs and the hashes of an inclusion proof are open to
any caller the API authenticated: they carry only hashes, and clients (witnesses above
all) must be able to hold the log to account without being trusted with its contents.
What the hashes commit to is not open: exporting the events needs ``audit.read``
registry-wide (a grant on ``*``), and an inclusion proof shows the event's leaf (actor,
action, target, time) only to such a reader or to one who may read the asset the event is
about; anyone else gets the proof with ``leaf`` withheld (``leaf_hash`` still proves it).
Keeping a witness's cosignature is a write: ``audit.cosign`` on ``*``. The local user
(``principal`` None) may do all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace
from itertools import islice
from typing import IO, TYPE_CHECKING

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError, NotFound
from modelatlas.governance.grants import EVERYWHERE
from modelatlas.governance.policy import Decision, Target
from modelatlas.governance.principal import Principal
from modelatlas.integrity import fastverify, log, merkle, witness
from modelatlas.integrity.errors import VerificationFailed
from modelatlas.integrity.export import write_export
from modelatlas.integrity.keys import load_signer
from modelatlas.integrity.leaf import leaf_data
from modelatlas.integrity.note import Checkpoint, Signer, Verifier, open_note
from modelatlas.integrity.verify import open_checkpoints, replay
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._rows import utcnow
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.audit_types import (
    AuditCheckpoint,
    AuditVerification,
    ConsistencyProof,
    CosignRequest,
    InclusionProof,
    b64,
)
from modelatlas.store.tables import assets, events

_TAGS_BY_REF = q._by_ref(assets.c.tags)


class AuditService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def decide_access(self, conn: Connection, principal: Principal, action: str,
                          namespace: str, target: Target) -> Decision: ...

    def _may_see_leaf(self, conn: Connection, principal: Principal | None,
                      target: str) -> bool:
        """Whether an inclusion proof may show the event's leaf: to a registry-wide audit
        reader, or to one who may read the asset the event is about (not recorded as a
        denial when not: the proof is still given, only the body is withheld)."""
        if principal is None or principal.is_local:
            return True
        caller = self._caller(principal)
        if self.decide_access(conn, caller, "audit.read", EVERYWHERE, Target()).allowed:
            return True
        try:
            ref = Ref.parse(target)
        except ModelAtlasError:
            return False  # about a namespace, a token...: audit readers only
        tags = conn.execute(_TAGS_BY_REF, q.ref_params(ref)).first()
        if tags is None:
            return False
        return self.decide_access(conn, caller, "asset.read", ref.namespace, Target(
            ref=target, kind=ref.kind, tags=frozenset(tags[0] or ()))).allowed

    # keys and origin ---------------------------------------------------------------------
    def _audit_origin(self, conn: Connection) -> str:
        return self.settings.audit_origin or f"modelatlas.local/{log.head(conn).log_id}"

    def _audit_signer(self, origin: str) -> Signer:
        cached = self.__dict__.get("_audit_signer_cache")
        if cached is None:
            path = self.settings.audit_key_file or self.settings.home / "keys" / "audit.key"
            cached = load_signer(path, name=origin)
            self.__dict__["_audit_signer_cache"] = cached
        return cached

    def audit_public_key(self, *, principal: Principal | None = None) -> str:
        """The verifier key of checkpoint signatures (``<name>+<key id>+<key>``); public."""
        with self.db.read() as conn:
            return str(self._audit_signer(self._audit_origin(conn)).verifier)

    def _wire(self, stored: log.StoredCheckpoint, origin: str) -> AuditCheckpoint:
        return AuditCheckpoint(origin=origin, size=stored.size, root=b64(stored.root),
                               signed_note=stored.signed_note, created_at=stored.created_at,
                               public_key=str(self._audit_signer(origin).verifier))

    # checkpoints -------------------------------------------------------------------------
    def audit_checkpoint(self, *, witnesses: Sequence[str] = (),
                         principal: Principal | None = None) -> AuditCheckpoint:
        """The newest signed checkpoint, covering every event committed before the call
        (signed now if the tree grew since the last one). With ``witnesses`` (key names),
        the newest checkpoint co-signed by all of them, however old (NotFound if none).
        Hashes only: any authenticated caller (``principal`` is taken for uniformity)."""
        if witnesses:
            return self._cosigned_checkpoint(list(witnesses))
        with self.db.read() as conn:
            origin = self._audit_origin(conn)
            head, latest = log.head(conn), log.latest_checkpoint(conn)
        if latest is not None and latest.size >= head.size:
            return self._wire(latest, origin)
        signer = self._audit_signer(origin)
        for _attempt in range(3):
            try:
                with self.db.write() as conn:
                    head = log.head(conn)
                    note = signer.sign(Checkpoint(origin, head.size, head.root).text())
                    stored = log.store_checkpoint(conn, log.StoredCheckpoint(
                        head.size, head.root, note, signer.verifier.key_id.hex(), utcnow()))
                return self._wire(stored, origin)
            except IntegrityError:
                continue  # another server stored this size first: read theirs
        raise VerificationFailed("could not store a checkpoint")  # pragma: no cover

    def audit_latest_checkpoint(self, *,
                                principal: Principal | None = None) -> AuditCheckpoint | None:
        """The newest checkpoint already signed, without signing one (``None`` before the
        first): for readers that show what is covered now and must not write, such as the
        UI's audit trails ("not yet checkpointed" is an answer there). Hashes only."""
        with self.db.read() as conn:
            origin = self._audit_origin(conn)
            latest = log.latest_checkpoint(conn)
        return None if latest is None else self._wire(latest, origin)

    def _cosigned_checkpoint(self, names: list[str]) -> AuditCheckpoint:
        with self.db.read() as conn:
            origin = self._audit_origin(conn)
            found = witness.latest_cosigned(conn, names)
        if found is None:
            raise NotFound(f"no checkpoint is co-signed by {', '.join(names)} yet",
                           errors=[FieldError("/witness", "no cosigned checkpoint")])
        return self._wire(found, origin)

    def audit_cosign(self, body: CosignRequest, *,
                     principal: Principal | None = None) -> AuditCheckpoint:
        """Keep a witness's cosignature on a checkpoint this registry signed: the stored
        note gains the witness's signature line, checked with ``body.witness_key``.
        Needs ``audit.cosign`` registry-wide."""
        self.authorize(principal, "audit.cosign", EVERYWHERE)
        witness_key = Verifier.parse(body.witness_key)
        with self.db.write() as conn:
            origin = self._audit_origin(conn)
            log_key = self._audit_signer(origin).verifier
            size = Checkpoint.parse(open_note(body.signed_note, log_key)).size
            stored = witness.checkpoint_at(conn, size)
            merged = witness.merge_cosignature(stored.signed_note, body.signed_note,
                                               log_key=log_key, witness_key=witness_key)
            witness.set_note(conn, size, merged)
        return self._wire(replace(stored, signed_note=merged), origin)

    # proofs ------------------------------------------------------------------------------
    def audit_inclusion_proof(self, seq: int, *, tree_size: int | None = None,
                              principal: Principal | None = None) -> InclusionProof:
        """Prove event ``seq`` is in the tree of ``tree_size`` leaves (default: the newest
        signed checkpoint, which then comes with the proof). ``leaf`` is None for a caller
        who may not read the event (see the module's docstring)."""
        if seq < 1:
            raise InvalidInput.at("/seq", "a sequence number is at least 1")
        checkpoint = self.audit_checkpoint() if tree_size is None else None
        with self.db.read() as conn:
            found = log.leaf_of(conn, seq)
            row = conn.execute(events.select().where(events.c.seq == seq)).first()
            if found is None or row is None:
                raise NotFound(f"no event {seq} in the audit log",
                               errors=[FieldError("/seq", "no such event")])
            index, leaf = found
            size = checkpoint.size if checkpoint is not None else int(tree_size or 0)
            self._check_size(conn, size, "/tree_size", least=index + 1)
            nodes = log.SqlNodes(conn)
            proof = merkle.inclusion_proof(index, size, nodes)
            root = merkle.root(size, nodes)
            shown = self._may_see_leaf(conn, principal, row.ref)
        data = leaf_data(seq=seq, time=row.time, actor=row.actor, action=row.action,
                         target=row.ref, payload_sha256=row.payload_sha256)
        return InclusionProof(seq=seq, leaf_index=index, tree_size=size,
                              leaf=data.decode() if shown else None,
                              leaf_hash=b64(leaf), root=b64(root),
                              proof=[b64(p) for p in proof], checkpoint=checkpoint)

    def audit_consistency_proof(self, from_size: int, to_size: int | None = None, *,
                                principal: Principal | None = None) -> ConsistencyProof:
        """Prove the tree of ``to_size`` leaves (default: the newest checkpoint's) extends
        the tree of ``from_size`` leaves. Hashes only: any authenticated caller."""
        if to_size is None:
            to_size = self.audit_checkpoint().size
        with self.db.read() as conn:
            self._check_size(conn, to_size, "/to", least=1)
            if not 1 <= from_size <= to_size:
                raise InvalidInput.at("/from", f"a size from 1 to {to_size}")
            nodes = log.SqlNodes(conn)
            proof = merkle.consistency_proof(from_size, to_size, nodes)
            roots = merkle.root(from_size, nodes), merkle.root(to_size, nodes)
        return ConsistencyProof(from_size=from_size, to_size=to_size, from_root=b64(roots[0]),
                                to_root=b64(roots[1]), proof=[b64(p) for p in proof])

    @staticmethod
    def _check_size(conn: Connection, size: int, path: str, *, least: int) -> None:
        current = log.head(conn).size
        if not least <= size <= current:
            raise InvalidInput(f"{path[1:]}: the tree size must be from {least} to {current}",
                               errors=[FieldError(path, f"from {least} to {current}")])

    # verification and export -------------------------------------------------------------
    def audit_verify(self, *, principal: Principal | None = None) -> AuditVerification:
        """Recompute the tree from the stored events and check it against the stored
        leaves and every signed head; raise :class:`VerificationFailed` naming the first
        bad sequence number. Reads every event but answers only counts and hashes, so it
        is open as checkpoints are (it runs where the database is: no route serves it)."""
        with self.db.read() as conn:
            origin = self._audit_origin(conn)
            verifier = self._audit_signer(origin).verifier
            heads = open_checkpoints((c.signed_note for c in log.checkpoints(conn)),
                                     verifier, None)
            stored = log.head(conn)
            # the fast path proves a good log; the replay names what is wrong with a bad one
            done = fastverify.verify_stored(conn, heads, stored)
            if done is None:
                with closing(log.event_rows(conn)) as rows, \
                        closing(log.leaf_rows(conn)) as leaves:
                    done = replay(rows, heads, leaves=leaves)
        if done.root != stored.root:
            raise VerificationFailed("the stored tree head does not match the events",
                                     errors=[FieldError("/root", "differs")])
        return AuditVerification(events=done.events, checkpoints=done.checkpoints,
                                 last_seq=done.last_seq, root=b64(done.root),
                                 seconds=done.seconds)

    def audit_export(self, out: IO[bytes], *, principal: Principal | None = None) -> int:
        """Write the log and its signed heads (a fresh one first) to ``out``; return the
        number of events written. Every event body: ``audit.read`` registry-wide."""
        self.authorize(principal, "audit.read", EVERYWHERE)
        checkpoint = self.audit_checkpoint()
        with self.db.read() as conn:
            notes = [c.signed_note for c in log.checkpoints(conn) if c.size <= checkpoint.size]
            # exactly the events the fresh head covers: later writes wait for the next export
            with closing(log.event_rows(conn)) as rows:
                return write_export(out, origin=checkpoint.origin,
                                    public_key=checkpoint.public_key, notes=notes,
                                    events=islice(rows, checkpoint.size))
