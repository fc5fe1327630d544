"""A promotion policy that asks for a verified attestation, end to end through the
service on SQLite and PostgreSQL: the registry's own provenance (signed at registration)
does not count, an envelope a team's CI signs with a trusted namespace key does, and a
revoked key stops counting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from modelatlas.errors import Conflict
from modelatlas.governance.principal import Principal
from modelatlas.integrity import dsse, intoto
from modelatlas.integrity.manifest import hash_artifact
from modelatlas.registry import Registry
from modelatlas.registry.types import VersionRegistration

ADA = Principal(kind="user", person="ada")  # the author (contributor)
MAE = Principal(kind="user", person="mae")  # a maintainer


def _register(registry: Registry, tmp_path: Path, version: int) -> str:
    weights = tmp_path / f"model-{version}.bin"
    weights.write_bytes(b"weights %d" % version)
    manifest = hash_artifact(weights)
    registry.register_version("fraud", "churn", VersionRegistration(
        manifest=manifest.to_statement()), principal=ADA)
    return manifest.root_digest


def _envelope(key: ed25519.Ed25519PrivateKey, digest: str) -> dict[str, object]:
    statement = intoto.statement("model", {"sha256": digest}, intoto.SLSA_PROVENANCE_V1,
                                 {"builder": "team-ci"})
    signed = dsse.sign_envelope(intoto.PAYLOAD_TYPE, json.dumps(statement).encode(),
                                [dsse.KeySigner(key)])
    return signed.to_json()


def _promote(registry: Registry, version: int) -> str:
    return registry.set_stage("fraud", "churn", version, {"stage": "production"},
                              principal=MAE).state


def test_only_a_team_signed_attestation_meets_the_policy(registry: Registry,
                                                         tmp_path: Path) -> None:
    for person, role in (("ada", "contributor"), ("mae", "maintainer")):
        registry.grant_role("fraud", {"principal_type": "user", "principal_name": person,
                                      "role": role})
    registry.set_promotion_policy("fraud", {"require_verified_attestation": True})
    digest = _register(registry, tmp_path, 1)
    with pytest.raises(Conflict) as unmet:  # the registry's own provenance is no evidence
        _promote(registry, 1)
    assert [e.path for e in unmet.value.errors] == ["/attestation"]
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    trusted = registry.register_key("fraud", {"public_key_pem": public, "name": "ci"})
    registry.upload_attestation("model_version:fraud/churn@1",
                                {"envelope": _envelope(key, digest)}, principal=ADA)
    assert _promote(registry, 1) == "production"
    # once the key is revoked, what it signed no longer counts for the next version
    second = _register(registry, tmp_path, 2)
    registry.upload_attestation("model_version:fraud/churn@2",
                                {"envelope": _envelope(key, second)}, principal=ADA)
    registry.revoke_key("fraud", trusted.key_id)
    with pytest.raises(Conflict) as revoked:
        _promote(registry, 2)
    assert [e.path for e in revoked.value.errors] == ["/attestation"]
