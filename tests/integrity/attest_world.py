"""Shared arrangement of the attestation tests: keys, a model version with a manifest, and
envelopes signed the way a team's CI would (a module of its own so test files import it by
a unique name)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from modelatlas.integrity import dsse, intoto
from modelatlas.integrity.manifest import Manifest, hash_artifact

VECTORS = Path(__file__).parent / "vectors"
TINY_MODEL = VECTORS / "model_signing/tiny_model"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def new_key(kind: str = "ed25519") -> PrivateKey:
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: PrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def manifest() -> Manifest:
    return hash_artifact(TINY_MODEL)


def registration(**extra: Any) -> dict[str, Any]:
    return {"manifest": manifest().to_statement(),
            "run": {"metadata": {"parameters": {"lr": 0.1}, "seeds": {"torch": 7}}},
            "datasets": [{"ref": "dataset:fraud/tx@1",
                          "metadata": {"digest": "sha256:" + "ab" * 32}}],
            "code": {"ref": "code:fraud/train",
                     "metadata": {"repository": "https://git.example/fraud", "commit": "abc1234"}},
            "environment": {"ref": "environment:fraud/py311",
                            "metadata": {"python": "3.11", "packages": ["numpy==2.0"]}},
            **extra}


def statement(digest: str | None = None, *, predicate_type: str = intoto.SLSA_PROVENANCE_V1,
              **override: Any) -> dict[str, Any]:
    doc = intoto.statement("model", {"sha256": digest or manifest().root_digest},
                           predicate_type, {"builder": "team-ci"})
    doc.update(override)
    return doc


def envelope(doc: Any, *signers: PrivateKey,
             payload_type: str = intoto.PAYLOAD_TYPE) -> dict[str, Any]:
    payload = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    made = dsse.sign_envelope(payload_type, payload, [dsse.KeySigner(k) for k in signers])
    return made.to_json()
