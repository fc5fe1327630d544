"""Attestations over HTTP against a real server: the routes, their problem documents, and
the SDK on both transports."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from attest_world import TINY_MODEL, envelope, new_key, pem, registration, statement

from modelatlas.client import Client
from modelatlas.integrity.dsse import SignatureRejected
from modelatlas.integrity.intoto import StatementInvalid

REF = "model_version:fraud/churn@1"


def test_keys_uploads_and_listing_over_http(base_url: str) -> None:
    api = base_url + "/api/v1"
    with httpx.Client(base_url=api) as http:
        made = http.post("/models/fraud/churn/versions", json=registration())
        assert made.status_code == 201, made.text
        key = new_key("ecdsa")
        added = http.post("/namespaces/fraud/keys", json={"public_key_pem": pem(key)})
        assert added.status_code == 201, added.text
        key_id = added.json()["key_id"]
        assert [k["key_id"] for k in http.get("/namespaces/fraud/keys").json()] == [key_id]
        uploaded = http.post(f"/attestations/{REF}", json={"envelope": envelope(statement(),
                                                                                  key)})
        assert uploaded.status_code == 201, uploaded.text
        bad = http.post(f"/attestations/{REF}",
                        json={"envelope": envelope(statement("cd" * 32), key)})
        assert bad.status_code == 422
        assert bad.json()["code"] == "statement_invalid"
        assert "no subject digest matches" in bad.json()["detail"]
        signed = http.post(f"/attestations/{REF}/sign")
        assert signed.status_code == 201 and signed.json()["signer"] == "registry"
        listed = http.get(f"/attestations/{REF}").json()
        assert [i["signer"] for i in listed["items"]] == ["registry", "fraud", "registry"]
        revoked = http.post(f"/namespaces/fraud/keys/{key_id}/revoke")
        assert revoked.json()["revoked_at"]
        refused = http.post(f"/attestations/{REF}", json={"envelope": envelope(statement(),
                                                                                 key)})
        assert refused.json()["code"] == "signature_rejected"
        assert http.get(f"/manifests/{REF}").json()["files"][0]["name"] == "a.txt"
        assert http.get("/registry-key").json()["algorithm"] == "ed25519"
        malformed = http.post(f"/attestations/{REF}", json={"envelope": {"payload": 1}})
        assert malformed.status_code == 422 and malformed.json()["code"] == "envelope_invalid"


def test_the_sdk_on_both_transports(client: Client, tmp_path: Path) -> None:
    manifest = client.artifacts.manifest(TINY_MODEL)
    client.models.register_version("fraud", "churn", manifest=manifest)
    assert client.artifacts.verify(REF, TINY_MODEL).matches
    key = new_key()
    key_path = tmp_path / "key.pub"
    key_path.write_text(pem(key))
    client.attestations.register_key("fraud", key_path, name="ci")
    stored = client.attestations.upload(REF, envelope(statement(), key))
    assert stored.signer == "fraud"
    with pytest.raises(StatementInvalid):
        client.attestations.upload(REF, envelope(statement(predicate_type="x:y"), key))
    with pytest.raises(SignatureRejected):
        client.attestations.upload(REF, envelope(statement(), new_key()))
    assert client.attestations.list(REF).status == "verified"
    assert client.attestations.sign(REF).signer == "registry"
    assert client.attestations.registry_key().key_id
