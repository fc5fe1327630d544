"""DSSE (Dead Simple Signing Envelope) v1: PAE, signing and verification.

Follows secure-systems-lab/dsse ``protocol.md`` exactly:

- the signature is over ``PAE(payloadType, payload)`` =
  ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` (lengths in bytes, ASCII decimal),
  never over the raw payload;
- verification decodes the payload, builds the PAE, checks each signature against the
  trusted keys, counts each key once however many signatures it made, and hands on *only*
  the verified payload bytes (:class:`Verified`) — a caller never re-reads the envelope.

Keys are Ed25519 or ECDSA P-256 / SHA-256 (the DSSE test vector's algorithm, and the one
``model-signing`` uses for key-based signing). An ECDSA signature may be DER (what most
tools write) or the raw ``r || s`` concatenation (the DSSE test vector). A key's id is the
SHA-256 (hex) of its DER SubjectPublicKeyInfo.

An envelope can arrive bare (``{"payload", "payloadType", "signatures"}``) or inside a
Sigstore bundle (``{"mediaType", "dsseEnvelope": {...}}``) as ``model-signing`` writes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from modelatlas.errors import FieldError, InvalidInput

MAX_SIGNATURES = 32
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024


class EnvelopeInvalid(InvalidInput):
    """Not a DSSE envelope we can read: structure, base64, or payload type."""

    code = "envelope_invalid"
    title = "Malformed or unacceptable DSSE envelope"
    remedy = 'Send {"payloadType", "payload": base64, "signatures": [{"keyid", "sig"}]}.'


class SignatureRejected(InvalidInput):
    """No signature verifies with a trusted key (unknown, revoked, or over other bytes)."""

    code = "signature_rejected"
    title = "Signature rejected"
    remedy = "Sign the DSSE PAE of the payload with a key registered for the namespace."


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding: the exact bytes that are signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE allows either), strictly."""
    padded = text + "=" * (-len(text) % 4)
    alphabet = b"-_" if ("-" in text or "_" in text) else None
    try:
        if alphabet:
            return base64.b64decode(padded.translate(str.maketrans("-_", "+/")), validate=True)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None


@dataclass(frozen=True)
class Signature:
    sig: bytes
    keyid: str = ""


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope. ``payload`` is decoded but NOT verified: pass the envelope to
    :func:`verify_envelope` and use what it returns."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "signatures": [{"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                           for s in self.signatures],
        }


@dataclass(frozen=True)
class Verified:
    """What verification vouches for: these payload bytes, of this type, signed by these
    keys (each once)."""

    payload_type: str
    payload: bytes
    key_ids: tuple[str, ...]


def parse_envelope(document: Any, *, path: str = "/envelope") -> Envelope:
    """Read a DSSE envelope (bare, or in a Sigstore bundle's ``dsseEnvelope``)."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError:
            raise _malformed(path, "not JSON") from None
    if isinstance(document, Mapping) and "dsseEnvelope" in document:
        document, path = document["dsseEnvelope"], f"{path}/dsseEnvelope"
    if not isinstance(document, Mapping):
        raise _malformed(path, "a JSON object")
    payload_type = document.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise _malformed(f"{path}/payloadType", "a non-empty string")
    payload_text = document.get("payload")
    if not isinstance(payload_text, str) or len(payload_text) > MAX_PAYLOAD_BYTES * 4 // 3 + 4:
        raise _malformed(f"{path}/payload", f"base64 text of at most {MAX_PAYLOAD_BYTES} bytes")
    try:
        payload = b64decode(payload_text)
    except ValueError:
        raise _malformed(f"{path}/payload", "not base64") from None
    raw = document.get("signatures")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_SIGNATURES:
        raise _malformed(f"{path}/signatures", f"a list of 1 to {MAX_SIGNATURES} signatures")
    return Envelope(payload_type, payload,
                    tuple(_signature(item, f"{path}/signatures/{i}") for i, item in enumerate(raw)))


def _signature(item: Any, path: str) -> Signature:
    if not isinstance(item, Mapping) or not isinstance(item.get("sig"), str):
        raise _malformed(path, 'an object with "sig" (base64)')
    keyid = item.get("keyid", "")
    if not isinstance(keyid, str):
        raise _malformed(f"{path}/keyid", "a string")
    try:
        sig = b64decode(item["sig"])
    except ValueError:
        raise _malformed(f"{path}/sig", "not base64") from None
    if not sig:
        raise _malformed(f"{path}/sig", "empty")
    return Signature(sig, keyid)


def _malformed(path: str, message: str) -> EnvelopeInvalid:
    return EnvelopeInvalid(f"malformed envelope: {path}: {message}",
                           errors=[FieldError(path, message)])


# keys --------------------------------------------------------------------------------------
PublicKeyTypes = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class PublicKey:
    """A trusted verification key. Build with :meth:`from_pem`."""

    key: PublicKeyTypes
    algorithm: str  # "ed25519" | "ecdsa-p256-sha256"
    key_id: str

    @classmethod
    def from_pem(cls, pem: str | bytes, *, path: str = "/public_key_pem") -> PublicKey:
        data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm, TypeError):
            raise InvalidInput.at(path, "not a PEM public key (SubjectPublicKeyInfo)") from None
        if isinstance(key, ed25519.Ed25519PublicKey):
            algorithm = "ed25519"
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            algorithm = "ecdsa-p256-sha256"
        else:
            raise InvalidInput.at(path, "only Ed25519 and ECDSA P-256 keys are accepted")
        return cls(key, algorithm, key_id_of(key))

    def pem(self) -> str:
        return self.key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, message)
                return True
            for candidate in _ecdsa_encodings(signature):
                try:
                    self.key.verify(candidate, message, ec.ECDSA(hashes.SHA256()))
                    return True
                except InvalidSignature:
                    continue
        except InvalidSignature:
            pass
        return False


def key_id_of(key: PublicKeyTypes) -> str:
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _ecdsa_encodings(signature: bytes) -> list[bytes]:
    """DER as given, and the raw ``r || s`` form (64 bytes for P-256) re-encoded as DER."""
    found = [signature]
    if len(signature) == 64:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        found.append(encode_dss_signature(r, s))
    return found


class Signer(Protocol):
    """Something that signs bytes (the PAE) with a private key: an Ed25519 or ECDSA P-256
    key in this process; an HSM or KMS could implement the same two members."""

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class KeySigner:
    """A :class:`Signer` over a ``cryptography`` private key."""

    private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.private_key.public_key())

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(message)
        return self.private_key.sign(message, ec.ECDSA(hashes.SHA256()))


def sign_envelope(payload_type: str, payload: bytes, signers: Sequence[Signer]) -> Envelope:
    """An envelope over ``payload`` with one signature (over the PAE) per signer."""
    message = pae(payload_type, payload)
    return Envelope(payload_type, payload,
                    tuple(Signature(s.sign(message), s.key_id) for s in signers))


def verify_envelope(
    envelope: Envelope,
    keys: Sequence[PublicKey],
    *,
    payload_type: str,
    revoked: Mapping[str, str] | None = None,
    threshold: int = 1,
) -> Verified:
    """Verify ``envelope`` against trusted ``keys``; raise unless at least ``threshold``
    distinct trusted keys signed its PAE and its type is ``payload_type``.

    ``revoked`` maps the ids of keys that are known but revoked to when; a signature by one
    of them counts for nothing and is named in the error."""
    message = pae(envelope.payload_type, envelope.payload)
    revoked = revoked or {}
    accepted: list[str] = []
    reasons: list[FieldError] = []
    for index, signature in enumerate(envelope.signatures):
        where = f"/envelope/signatures/{index}"
        # the keyid is an unauthenticated hint: it may pick the key, never vouch for it
        hinted = [k for k in keys if k.key_id == signature.keyid] or list(keys)
        signer = next((k for k in hinted if k.verify(signature.sig, message)), None)
        if signer is None:
            reasons.append(FieldError(where, _unknown_reason(signature.keyid, keys)))
        elif signer.key_id in revoked:
            reasons.append(FieldError(where, f"signed by key {signer.key_id}, revoked at "
                                             f"{revoked[signer.key_id]}"))
        elif signer.key_id not in accepted:
            accepted.append(signer.key_id)  # one key signing twice still counts once
    if len(accepted) < threshold:
        detail = "; ".join(f"{r.path}: {r.message}" for r in reasons)
        raise SignatureRejected(
            f"{len(accepted)} of {threshold} required trusted signatures verify: {detail}",
            errors=reasons)
    if envelope.payload_type != payload_type:
        raise EnvelopeInvalid(
            f"payload type {envelope.payload_type!r} is not {payload_type!r}",
            errors=[FieldError("/envelope/payloadType", f"expected {payload_type}")])
    return Verified(envelope.payload_type, envelope.payload, tuple(accepted))


def _unknown_reason(keyid: str, keys: Sequence[PublicKey]) -> str:
    if not keys:
        return "no keys are registered for this namespace"
    if keyid and keyid not in {k.key_id for k in keys}:
        return (f"key {keyid} is not registered for this namespace, and no registered key "
                "verifies the signature over the PAE")
    return "no registered key verifies this signature over the DSSE PAE of the payload"
