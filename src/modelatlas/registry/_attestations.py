"""The service layer's attestation operations, mixed into :class:`Registry`: namespace
signing keys, artifact manifests, and DSSE-enveloped in-toto Statements about an asset's
artifact digest, signed by the registry or uploaded by a team and verified on upload.

Every stored attestation appends ``attestation.stored`` in the same transaction, so the
audit log proves when it was stored; key registration and revocation are events too.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from modelatlas.errors import AlreadyExists, FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.governance.principal import Principal
from modelatlas.integrity import dsse, intoto
from modelatlas.jsonsafe import canonical
from modelatlas.refs import Ref, check_namespace
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import require_readable
from modelatlas.registry._manifests import load_manifest
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.attestation_types import (
    ArtifactManifest,
    Attestation,
    AttestationIn,
    AttestationList,
    RegistryKey,
    SigningKey,
    SigningKeyIn,
)
from modelatlas.registry.types import Registration
from modelatlas.store.tables import assets, attestations, relations, signing_keys

if TYPE_CHECKING:
    from modelatlas.registry._tx import WriteTx

REGISTRY_SIGNER = "registry"
KEY_FILE = "attestation-ed25519.pem"  # the audit log's checkpoint key is a different file


def _ref(ref: str | Ref, path: str = "/ref") -> Ref:
    return Ref.coerce(ref, path=path)


class AttestationService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def _may_attest(self, principal: Principal | None, ref: Ref) -> None:
        """Attesting needs the asset readable (else 404, as if missing), then
        ``attestation.add`` in its namespace."""
        require_readable(self, principal, ref)
        self.authorize(principal, "attestation.add", ref.namespace, ref=str(ref), kind=ref.kind)

    # keys ------------------------------------------------------------------------------
    def register_key(self, namespace: str, body: SigningKeyIn | Mapping[str, Any], *,
                     actor: str | None = None,
                     principal: Principal | None = None) -> SigningKey:
        """Trust a public key for attestations uploaded about ``namespace``'s assets."""
        check_namespace(namespace, path="/namespace")
        spec = body if isinstance(body, SigningKeyIn) else _parse_key_in(body)
        key = dsse.PublicKey.from_pem(spec.public_key_pem)
        self.authorize(principal, "key.manage", namespace)
        with self._write(self.acting(principal, actor)) as tx:
            exists = tx.conn.execute(sa.select(signing_keys.c.id).where(
                signing_keys.c.namespace == namespace, signing_keys.c.key_id == key.key_id)
            ).first()
            if exists is not None:
                raise AlreadyExists(f"key {key.key_id} is already registered for {namespace}",
                                    errors=[FieldError("/public_key_pem", "already registered")])
            values = {"namespace": namespace, "key_id": key.key_id, "algorithm": key.algorithm,
                      "public_key_pem": key.pem(), "name": spec.name,
                      "created_at": tx.now, "created_by": tx.actor}
            tx.conn.execute(signing_keys.insert().values(**values))
            tx.emit(Action.KEY_REGISTERED, f"namespace:{namespace}",
                    {"key_id": key.key_id, "algorithm": key.algorithm, "name": spec.name}, None)
            return SigningKey(**values)

    def revoke_key(self, namespace: str, key_id: str, *, actor: str | None = None,
                   principal: Principal | None = None) -> SigningKey:
        """Stop trusting a key: new uploads it signed are refused, and attestations it
        alone signed show ``key_revoked``."""
        check_namespace(namespace, path="/namespace")
        self.authorize(principal, "key.manage", namespace)
        with self._write(self.acting(principal, actor)) as tx:
            where = (signing_keys.c.namespace == namespace) & (signing_keys.c.key_id == key_id)
            row = tx.conn.execute(sa.select(signing_keys).where(where)).first()
            if row is None:
                raise NotFound(f"no key {key_id} is registered for {namespace}",
                               errors=[FieldError("/key_id", "unknown key")])
            if row.revoked_at is None:
                tx.conn.execute(signing_keys.update().where(where)
                                .values(revoked_at=tx.now, revoked_by=tx.actor))
                tx.emit(Action.KEY_REVOKED, f"namespace:{namespace}", {"key_id": key_id}, None)
            row = tx.conn.execute(sa.select(signing_keys).where(where)).one()
            return _key_out(row)

    def signing_keys(self, namespace: str, *,
                     principal: Principal | None = None) -> list[SigningKey]:
        """The namespace's keys, for whoever may read in it (viewer and up): public keys,
        but which teams trust which signers is the namespace's business."""
        check_namespace(namespace, path="/namespace")
        self.authorize(principal, "asset.read", namespace)
        with self.db.read() as conn:
            rows = conn.execute(sa.select(signing_keys)
                                .where(signing_keys.c.namespace == namespace)
                                .order_by(signing_keys.c.id)).all()
        return [_key_out(r) for r in rows]

    def registry_key(self) -> RegistryKey:
        """The registry's Ed25519 attestation key (created on first use)."""
        public = dsse.PublicKey.from_pem(_registry_private_key(self.settings.home)
                                         .public_key().public_bytes(*_SPKI_PEM))
        return RegistryKey(key_id=public.key_id, algorithm=public.algorithm,
                           public_key_pem=public.pem())

    # manifests -------------------------------------------------------------------------
    def artifact_manifest(self, ref: str | Ref, *,
                          principal: Principal | None = None) -> ArtifactManifest:
        parsed = _ref(ref)
        require_readable(self, principal, parsed)
        with self.db.read() as conn:
            return load_manifest(conn, q.require_id(conn, parsed), parsed)

    # attestations ----------------------------------------------------------------------
    def attest(self, ref: str | Ref, *, actor: str | None = None,
               principal: Principal | None = None) -> Attestation:
        """The registry signs SLSA provenance of the training run for ``ref``'s artifact."""
        parsed = _ref(ref)
        self._may_attest(principal, parsed)
        signer = dsse.KeySigner(_registry_private_key(self.settings.home))
        with self._write(self.acting(principal, actor)) as tx:
            return _sign_and_store(tx, parsed, tx.require_id(parsed, "/ref"), signer)

    def _attest_registered(self, tx: WriteTx, result: Registration) -> Registration:
        """Registration with a manifest: the registry signs its provenance at once."""
        version = result.model_version
        if "sha256" in version.digests:
            signer = dsse.KeySigner(_registry_private_key(self.settings.home))
            parsed = Ref.parse(version.ref)
            _sign_and_store(tx, parsed, tx.require_id(parsed, "/ref"), signer)
        return result

    def upload_attestation(self, ref: str | Ref, body: AttestationIn | Mapping[str, Any], *,
                           actor: str | None = None,
                           principal: Principal | None = None) -> Attestation:
        """Verify a team's DSSE envelope against ``ref``'s namespace keys, validate its
        Statement, check its subject is the artifact's digest, and store it."""
        parsed = _ref(ref)
        self._may_attest(principal, parsed)  # who asks before what they sent
        envelope_doc = body.envelope if isinstance(body, AttestationIn) else body.get("envelope")
        envelope = dsse.parse_envelope(envelope_doc)
        with self._write(self.acting(principal, actor)) as tx:
            asset_id = tx.require_id(parsed, "/ref")
            keys, revoked = _namespace_keys(tx.conn, parsed.namespace)
            verified = dsse.verify_envelope(envelope, keys, payload_type=intoto.PAYLOAD_TYPE,
                                            revoked=revoked)
            statement = intoto.parse_statement(verified.payload)
            digests = _digests(tx.conn, asset_id)
            subject = intoto.matching_subject(statement, digests)
            # only the verified bytes are stored, re-wrapped with the signatures as given
            kept = dsse.Envelope(verified.payload_type, verified.payload, envelope.signatures)
            return _store(tx, parsed, asset_id, kept, statement, subject,
                          parsed.namespace, verified.key_ids)

    def attestations(self, ref: str | Ref, *,
                     principal: Principal | None = None) -> AttestationList:
        parsed = _ref(ref)
        require_readable(self, principal, parsed)
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            digests = _digests(conn, asset_id)
            revoked = set(_namespace_keys(conn, parsed.namespace)[1])
            rows = conn.execute(sa.select(attestations)
                                .where(attestations.c.asset_id == asset_id)
                                .order_by(attestations.c.id.desc()).limit(500)).all()
        items = [_attestation_out(parsed, row, revoked) for row in rows]
        status = "none" if not items else (
            "verified" if any(i.status == "verified" for i in items) else "key_revoked")
        digest = f"sha256:{digests['sha256']}" if "sha256" in digests else None
        return AttestationList(ref=str(parsed), artifact_digest=digest, status=status,
                               items=items)


# helpers -----------------------------------------------------------------------------------
_SPKI_PEM = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _parse_key_in(body: Mapping[str, Any]) -> SigningKeyIn:
    try:
        return SigningKeyIn.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None


def _key_out(row: Any) -> SigningKey:
    return SigningKey(namespace=row.namespace, key_id=row.key_id, algorithm=row.algorithm,
                      name=row.name, public_key_pem=row.public_key_pem,
                      created_at=row.created_at, created_by=row.created_by,
                      revoked_at=row.revoked_at, revoked_by=row.revoked_by)


def _namespace_keys(conn: Connection,
                    namespace: str) -> tuple[list[dsse.PublicKey], dict[str, str]]:
    rows = conn.execute(sa.select(signing_keys).where(signing_keys.c.namespace == namespace)
                        ).all()
    keys = [dsse.PublicKey.from_pem(r.public_key_pem) for r in rows]
    return keys, {r.key_id: r.revoked_at for r in rows if r.revoked_at is not None}


def _digests(conn: Connection, asset_id: int) -> dict[str, str]:
    value = conn.execute(sa.select(assets.c.digests).where(assets.c.id == asset_id)).scalar()
    return dict(value or {})


def _registry_private_key(home: Path) -> ed25519.Ed25519PrivateKey:
    """Load the registry's key, or create it once: written to a temporary file and linked
    into place, so two processes starting together end up with the same key."""
    path = home / "keys" / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        temp = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process won: use its key
        finally:
            temp.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise InvalidInput.at(str(path), "the registry attestation key must be Ed25519")
    return key


def _sign_and_store(tx: WriteTx, ref: Ref, asset_id: int, signer: dsse.Signer) -> Attestation:
    digests = _digests(tx.conn, asset_id)
    if "sha256" not in digests:
        raise InvalidInput.at("/ref", f"{ref} has no artifact digest: register it with a "
                                      "manifest (client.artifacts.manifest(path))")
    tx.flush_events()  # relations this transaction linked are read below
    predicate = _provenance(tx.conn, asset_id)
    document = intoto.statement(str(ref), {"sha256": digests["sha256"]},
                                intoto.SLSA_PROVENANCE_V1, predicate)
    payload = canonical(document)
    envelope = dsse.sign_envelope(intoto.PAYLOAD_TYPE, payload, [signer])
    statement = intoto.parse_statement(payload)
    return _store(tx, ref, asset_id, envelope, statement, ("sha256", digests["sha256"]),
                  REGISTRY_SIGNER, (signer.key_id,))


def _store(tx: WriteTx, ref: Ref, asset_id: int, envelope: dsse.Envelope,
           statement: intoto.Statement, subject: tuple[str, str], signer: str,
           key_ids: tuple[str, ...]) -> Attestation:
    body = canonical(envelope.to_json())
    digest = hashlib.sha256(body).hexdigest()
    payload = {"predicate_type": statement.predicate_type,
               "subject": f"{subject[0]}:{subject[1]}", "signer": signer,
               "key_ids": list(key_ids), "envelope_sha256": digest}
    seq = tx.emit_now(Action.ATTESTATION_STORED, str(ref), payload, asset_id)
    values = {"asset_id": asset_id, "subject_algorithm": subject[0],
              "subject_digest": subject[1], "predicate_type": statement.predicate_type,
              "envelope": body.decode("utf-8"), "envelope_sha256": digest, "signer": signer,
              "key_ids": list(key_ids), "event_seq": seq, "created_at": tx.now,
              "created_by": tx.actor}
    new_id = tx.conn.execute(attestations.insert().values(**values)
                             .returning(attestations.c.id)).scalar_one()
    return _attestation_out(ref, _RowLike(id=new_id, **values), set())


class _RowLike:
    """A just-written attestation row, read like a database row."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _attestation_out(ref: Ref, row: Any, revoked: set[str]) -> Attestation:
    envelope = json.loads(row.envelope)
    keys = list(row.key_ids)
    alive = row.signer == REGISTRY_SIGNER or any(k not in revoked for k in keys)
    return Attestation(
        id=row.id, ref=str(ref), subject_digest=f"{row.subject_algorithm}:{row.subject_digest}",
        predicate_type=row.predicate_type, signer=row.signer, key_ids=keys,
        status="verified" if alive else "key_revoked", event_seq=row.event_seq,
        created_at=row.created_at, created_by=row.created_by, envelope=envelope,
        statement=json.loads(dsse.b64decode(envelope["payload"])),
    )


# provenance --------------------------------------------------------------------------------
def _provenance(conn: Connection, asset_id: int) -> dict[str, Any]:
    """SLSA provenance v1 of the run that produced the asset: its parameters and seeds,
    and the datasets, features, code and environment it used."""
    run = assets.alias("run")
    produced = conn.execute(
        sa.select(run).join(relations, relations.c.source_id == run.c.id)
        .where(relations.c.target_id == asset_id, relations.c.relation == "produced")
        .order_by(run.c.id).limit(1)).first()
    if produced is None:
        return intoto.slsa_provenance(run=None, parameters={}, materials=[])
    used = conn.execute(
        sa.select(assets).join(relations, relations.c.target_id == assets.c.id)
        .where(relations.c.source_id == produced.id, relations.c.relation == "used")
        .order_by(assets.c.kind, assets.c.id)).all()
    meta = dict(produced.meta or {})
    return intoto.slsa_provenance(
        run=_ref_text(produced),
        parameters={"parameters": meta.get("parameters", {}), "seeds": meta.get("seeds", {})},
        materials=[_material(row) for row in used],
        started_on=meta.get("started_at"), finished_on=meta.get("ended_at"),
    )


def _ref_text(row: Any) -> str:
    return str(Ref.of(row.kind, row.namespace, row.name, row.version or None))


def _material(row: Any) -> intoto.Material:
    meta, digests = dict(row.meta or {}), dict(row.digests or {})
    ref = _ref_text(row)
    if row.kind == "code" and meta.get("repository"):
        digest = {"gitCommit": meta["commit"]} if meta.get("commit") else digests
        return intoto.Material(f"git+{meta['repository']}", digest, name=ref)
    if row.kind == "dataset" and isinstance(meta.get("digest"), str):
        alg, _, value = meta["digest"].partition(":")
        digests = {alg: value, **digests}
    return intoto.Material(ref, digests, name=ref)
