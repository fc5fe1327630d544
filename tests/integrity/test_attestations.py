"""Attestations through the service layer, on both backends: the registry signs SLSA
provenance at registration and on demand; a team's uploads are verified against its
namespace keys; every bad input is refused with its reason and writes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from attest_world import envelope, manifest, new_key, pem, registration, statement

from modelatlas.errors import AlreadyExists, InvalidInput, NotFound
from modelatlas.integrity import dsse, intoto
from modelatlas.integrity.dsse import EnvelopeInvalid, SignatureRejected
from modelatlas.integrity.intoto import StatementInvalid
from modelatlas.registry import Registry, VersionRegistration

REF = "model_version:fraud/churn@1"


@pytest.fixture
def version(registry: Registry) -> str:
    reg = registry.register_version("fraud", "churn",
                                    VersionRegistration.model_validate(registration()))
    assert reg.model_version.ref == REF
    return REF


def test_registration_records_the_manifest_and_signs_provenance(
        registry: Registry, version: str) -> None:
    asset = registry.get_asset(version)
    assert asset.digests == {"sha256": manifest().root_digest}
    stored = registry.artifact_manifest(version)
    assert stored.to_manifest() == manifest()
    listed = registry.attestations(version)
    assert listed.status == "verified"
    assert listed.artifact_digest == f"sha256:{manifest().root_digest}"
    (item,) = listed.items
    assert (item.signer, item.predicate_type) == ("registry", intoto.SLSA_PROVENANCE_V1)
    build = item.statement["predicate"]["buildDefinition"]
    assert build["externalParameters"] == {"parameters": {"lr": 0.1}, "seeds": {"torch": 7}}
    uris = {d["uri"]: d["digest"] for d in build["resolvedDependencies"]}
    assert uris["git+https://git.example/fraud"] == {"gitCommit": "abc1234"}
    assert uris["dataset:fraud/tx@1"] == {"sha256": "ab" * 32}
    assert "environment:fraud/py311" in uris
    # the stored envelope verifies with the registry's published key
    key = dsse.PublicKey.from_pem(registry.registry_key().public_key_pem)
    verified = dsse.verify_envelope(dsse.parse_envelope(item.envelope), [key],
                                    payload_type=intoto.PAYLOAD_TYPE)
    assert json.loads(verified.payload) == item.statement
    events = [e for e in registry.history(version).items if e.action == "attestation.stored"]
    assert [e.seq for e in events] == [item.event_seq]


def test_sign_on_demand_adds_an_attestation_and_an_event(
        registry: Registry, version: str, event_count: Callable[[], int]) -> None:
    before = event_count()
    made = registry.attest(version)
    assert made.status == "verified" and made.event_seq > 0
    assert event_count() == before + 1
    assert registry.attestations(version).items[0].id == made.id


def test_the_registry_key_is_kept_under_home(registry: Registry) -> None:
    first = registry.registry_key()
    assert (registry.settings.home / "keys/attestation-ed25519.pem").exists()
    assert registry.registry_key() == first


def test_a_version_without_a_manifest_cannot_be_attested(registry: Registry) -> None:
    registry.register_version("fraud", "plain", VersionRegistration())
    with pytest.raises(InvalidInput, match="no artifact digest"):
        registry.attest("model_version:fraud/plain@1")
    with pytest.raises(NotFound, match="no artifact manifest"):
        registry.artifact_manifest("model_version:fraud/plain@1")


def test_a_valid_upload_is_stored_with_an_event(registry: Registry, version: str,
                                                event_count: Callable[[], int]) -> None:
    key = new_key("ecdsa")
    registered = registry.register_key("fraud", {"public_key_pem": pem(key), "name": "ci"})
    assert registered.algorithm == "ecdsa-p256-sha256"
    before = event_count()
    stored = registry.upload_attestation(version, {"envelope": envelope(statement(), key)})
    assert (stored.signer, stored.key_ids, stored.status) == (
        "fraud", [registered.key_id], "verified")
    assert stored.statement == statement()
    assert event_count() == before + 1
    assert registry.events(after=before).items[0].action == "attestation.stored"


def test_duplicate_signatures_by_one_key_are_counted_once(registry: Registry,
                                                          version: str) -> None:
    key = new_key()
    registry.register_key("fraud", {"public_key_pem": pem(key)})
    stored = registry.upload_attestation(version, {"envelope": envelope(statement(), key, key)})
    assert len(stored.key_ids) == 1
    assert len(stored.envelope["signatures"]) == 2


def test_a_model_signing_bundle_uploads_as_it_is(registry: Registry, version: str) -> None:
    from attest_world import VECTORS
    folder = VECTORS / "model_signing"
    registry.register_key("fraud", {"public_key_pem": (folder / "key.pub").read_text()})
    bundle = json.loads((folder / "model.sig").read_text())
    stored = registry.upload_attestation(version, {"envelope": bundle})
    assert stored.predicate_type == "https://model_signing/signature/v1.0"


def _bad_cases(key: Any, other: Any) -> dict[str, tuple[Any, type[Exception], str]]:
    signed = envelope(statement(), key)
    over_raw = dict(signed, signatures=[{"sig": base64.b64encode(
        key.sign(base64.b64decode(signed["payload"]))).decode()}])
    return {
        "malformed": ({"payload": "x"}, EnvelopeInvalid, "payloadType"),
        "not base64": (dict(signed, payload="@@"), EnvelopeInvalid, "not base64"),
        "unknown key": (envelope(statement(), other), SignatureRejected, "not registered"),
        "other bytes": (over_raw, SignatureRejected, "over the DSSE PAE"),
        "wrong payload type": (envelope(statement(), key, payload_type="text/plain"),
                               EnvelopeInvalid, "payload type"),
        "not a statement": (envelope({"_type": "x"}, key), StatementInvalid, "_type"),
        "no subjects": (envelope(statement(subject=[]), key), StatementInvalid, "subject"),
        "upper-case digest": (envelope(statement("AB" * 32), key), StatementInvalid,
                              "lowercase hex"),
        "short digest": (envelope(statement("ab"), key), StatementInvalid, "64 lowercase"),
        "predicate type": (envelope(statement(predicate_type="https://x.dev/p"), key),
                           StatementInvalid, "predicateType"),
        "other artifact": (envelope(statement("cd" * 32), key), StatementInvalid,
                           "no subject digest matches"),
        "duplicate keys": (envelope(b'{"_type": "a", "_type": "b"}', key), StatementInvalid,
                           "duplicate key"),
    }


def test_each_bad_input_is_refused_with_its_reason_and_nothing_stored(
        registry: Registry, version: str, event_count: Callable[[], int]) -> None:
    key, other = new_key(), new_key()
    registry.register_key("fraud", {"public_key_pem": pem(key)})
    before, stored = event_count(), len(registry.attestations(version).items)
    for name, (document, error, reason) in _bad_cases(key, other).items():
        with pytest.raises(error) as caught:
            registry.upload_attestation(version, {"envelope": document})
        assert reason in caught.value.detail, name
    assert event_count() == before
    assert len(registry.attestations(version).items) == stored


def test_a_revoked_key_is_refused_and_its_attestations_show_it(
        registry: Registry, version: str) -> None:
    key = new_key()
    key_id = registry.register_key("fraud", {"public_key_pem": pem(key)}).key_id
    registry.upload_attestation(version, {"envelope": envelope(statement(), key)})
    revoked = registry.revoke_key("fraud", key_id)
    assert revoked.revoked_at is not None
    with pytest.raises(SignatureRejected, match="revoked at"):
        registry.upload_attestation(version, {"envelope": envelope(statement(), key)})
    statuses = {i.signer: i.status for i in registry.attestations(version).items}
    assert statuses == {"fraud": "key_revoked", "registry": "verified"}
    assert [e.action for e in registry.events().items][-2:] == ["attestation.stored",
                                                                "key.revoked"]


def test_keys_are_per_namespace(registry: Registry, version: str) -> None:
    key = new_key()
    registry.register_key("credit", {"public_key_pem": pem(key)})
    with pytest.raises(SignatureRejected, match="no keys are registered"):
        registry.upload_attestation(version, {"envelope": envelope(statement(), key)})
    assert [k.namespace for k in registry.signing_keys("credit")] == ["credit"]
    assert registry.signing_keys("fraud") == []


def test_key_registration_refusals(registry: Registry) -> None:
    key = new_key()
    registry.register_key("fraud", {"public_key_pem": pem(key)})
    with pytest.raises(AlreadyExists):
        registry.register_key("fraud", {"public_key_pem": pem(key)})
    with pytest.raises(InvalidInput, match="PEM"):
        registry.register_key("fraud", {"public_key_pem": "not a key"})
    rsa_free = ("-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE"
                "\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InvalidInput):
        registry.register_key("fraud", {"public_key_pem": rsa_free})
    with pytest.raises(NotFound):
        registry.revoke_key("fraud", "0" * 64)


def test_a_registration_with_a_bad_manifest_writes_nothing(
        registry: Registry, event_count: Callable[[], int]) -> None:
    doc = manifest().to_statement()
    doc["predicate"]["resources"][0]["digest"] = "0" * 64
    before = event_count()
    with pytest.raises(InvalidInput, match="resources hash to"):
        registry.register_version("fraud", "churn",
                                  VersionRegistration.model_validate(registration(manifest=doc)))
    assert event_count() == before


def test_verified_bytes_only_are_kept(registry: Registry, version: str) -> None:
    key = new_key()
    registry.register_key("fraud", {"public_key_pem": pem(key)})
    signed = envelope(statement(), key)
    signed["extra"] = "ignored"
    stored = registry.upload_attestation(version, {"envelope": signed})
    assert set(stored.envelope) == {"payloadType", "payload", "signatures"}
    assert base64.b64decode(stored.envelope["payload"]) == json.dumps(statement()).encode()
    assert dsse.parse_envelope(stored.envelope).payload == json.dumps(statement()).encode()
