"""DSSE against the specification's own test vector (secure-systems-lab/dsse protocol.md,
copied in vectors/dsse/ with its source line), and the verification rules around it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from modelatlas.integrity.dsse import (
    EnvelopeInvalid,
    KeySigner,
    PublicKey,
    SignatureRejected,
    pae,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)

VECTOR = json.loads((Path(__file__).parent / "vectors/dsse/protocol_test_vector.json")
                    .read_text())


def _vector_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(VECTOR["key"]["d"]), ec.SECP256R1())


def _spki() -> tuple[serialization.Encoding, serialization.PublicFormat]:
    return serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


def _vector_public_key() -> PublicKey:
    """The public key from the vector's x and y only (not derived from its private key)."""
    numbers = ec.EllipticCurvePublicNumbers(int(VECTOR["key"]["x"]), int(VECTOR["key"]["y"]),
                                            ec.SECP256R1())
    return PublicKey.from_pem(numbers.public_key().public_bytes(*_spki()))


def test_pae_is_the_vectors_bytes() -> None:
    got = pae(VECTOR["payload_type"], VECTOR["serialized_body"].encode())
    assert got == VECTOR["pae"].encode()


def test_the_vector_key_pair_is_consistent() -> None:
    public = _vector_private_key().public_key().public_numbers()
    assert (public.x, public.y) == (int(VECTOR["key"]["x"]), int(VECTOR["key"]["y"]))


def test_the_vectors_envelope_verifies_and_hands_on_its_payload() -> None:
    envelope = parse_envelope(VECTOR["envelope"])
    verified = verify_envelope(envelope, [_vector_public_key()],
                               payload_type=VECTOR["payload_type"])
    assert verified.payload == VECTOR["serialized_body"].encode()
    assert verified.key_ids == (_vector_public_key().key_id,)


def test_signing_the_vector_with_rfc6979_reproduces_its_signature() -> None:
    key = _vector_private_key()
    der = key.sign(VECTOR["pae"].encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert base64.b64encode(raw).decode() == VECTOR["envelope"]["signatures"][0]["sig"]


def test_a_signature_over_the_raw_payload_is_refused() -> None:
    key = _vector_private_key()
    body = VECTOR["serialized_body"].encode()
    over_raw = key.sign(body, ec.ECDSA(hashes.SHA256()))
    envelope = parse_envelope({**VECTOR["envelope"], "signatures": [
        {"sig": base64.b64encode(over_raw).decode()}]})
    with pytest.raises(SignatureRejected, match="over the DSSE PAE"):
        verify_envelope(envelope, [_vector_public_key()], payload_type=VECTOR["payload_type"])


def test_a_changed_payload_or_type_breaks_the_vector_signature() -> None:
    for change in ({"payload": base64.b64encode(b"hello world!").decode()},
                   {"payloadType": "http://example.com/Other"}):
        envelope = parse_envelope({**VECTOR["envelope"], **change})
        with pytest.raises(SignatureRejected):
            verify_envelope(envelope, [_vector_public_key()],
                            payload_type=envelope.payload_type)


def test_a_valid_signature_of_the_wrong_payload_type_is_refused() -> None:
    envelope = parse_envelope(VECTOR["envelope"])
    with pytest.raises(EnvelopeInvalid, match="payload type"):
        verify_envelope(envelope, [_vector_public_key()],
                        payload_type="application/vnd.in-toto+json")


def test_duplicate_signatures_by_one_key_count_once() -> None:
    signer = KeySigner(ed25519.Ed25519PrivateKey.generate())
    key = PublicKey.from_pem(signer.private_key.public_key().public_bytes(*_spki()))
    envelope = sign_envelope("t", b"x", [signer, signer, signer])
    assert len(envelope.signatures) == 3
    assert verify_envelope(envelope, [key], payload_type="t").key_ids == (key.key_id,)
    with pytest.raises(SignatureRejected, match="1 of 2"):
        verify_envelope(envelope, [key], payload_type="t", threshold=2)


def test_two_keys_meet_a_threshold_of_two() -> None:
    signers = [KeySigner(ed25519.Ed25519PrivateKey.generate()),
               KeySigner(ec.generate_private_key(ec.SECP256R1()))]
    keys = [PublicKey.from_pem(s.private_key.public_key().public_bytes(*_spki()))
            for s in signers]
    envelope = parse_envelope(sign_envelope("t", b"x", signers).to_json())
    assert set(verify_envelope(envelope, keys, payload_type="t", threshold=2).key_ids) == {
        k.key_id for k in keys}


def test_revoked_and_unknown_keys_are_named() -> None:
    signer = KeySigner(ed25519.Ed25519PrivateKey.generate())
    key = PublicKey.from_pem(signer.private_key.public_key().public_bytes(*_spki()))
    envelope = sign_envelope("t", b"x", [signer])
    with pytest.raises(SignatureRejected, match="revoked at 2026"):
        verify_envelope(envelope, [key], payload_type="t",
                        revoked={key.key_id: "2026-01-01T00:00:00Z"})
    with pytest.raises(SignatureRejected, match="no keys are registered"):
        verify_envelope(envelope, [], payload_type="t")
    with pytest.raises(SignatureRejected, match="not registered"):
        verify_envelope(envelope, [_vector_public_key()], payload_type="t")


@pytest.mark.parametrize(("document", "where"), [
    ("not json", "not JSON"),
    ([], "a JSON object"),
    ({"payload": "aGk=", "signatures": [{"sig": "AA=="}]}, "payloadType"),
    ({"payloadType": "t", "payload": "***", "signatures": [{"sig": "AA=="}]}, "payload"),
    ({"payloadType": "t", "payload": "aGk=", "signatures": []}, "signatures"),
    ({"payloadType": "t", "payload": "aGk=", "signatures": [{"keyid": "k"}]}, "signatures/0"),
    ({"payloadType": "t", "payload": "aGk=", "signatures": [{"sig": "%%"}]}, "sig"),
    ({"payloadType": "t", "payload": "aGk=", "signatures": [{"sig": "AA==", "keyid": 3}]},
     "keyid"),
])
def test_malformed_envelopes_say_where(document: Any, where: str) -> None:
    with pytest.raises(EnvelopeInvalid) as caught:
        parse_envelope(document)
    assert where in caught.value.detail


def test_url_safe_unpadded_base64_is_read() -> None:
    envelope = parse_envelope({"payloadType": "t", "payload": "-_8", "signatures": [
        {"sig": "AA"}]})
    assert envelope.payload == b"\xfb\xff"
    assert envelope.signatures[0].sig == b"\x00"
