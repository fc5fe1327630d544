"""The audit routes over a real server, on both backends: checkpoint, proofs that verify
client-side against the checkpoint's key, and bad input refused with its reason."""

from __future__ import annotations

import httpx

from modelatlas.integrity.note import Verifier
from modelatlas.registry import Registry
from modelatlas.registry.audit_types import AuditCheckpoint, ConsistencyProof, InclusionProof
from modelatlas.registry.types import AssetCreate


def test_checkpoint_and_proofs_over_http(registry: Registry, base_url: str) -> None:
    for i in range(5):
        registry.create_asset(AssetCreate(ref=f"dataset:api/a{i}@1"))
    key = Verifier.parse(registry.audit_public_key())
    with httpx.Client(base_url=f"{base_url}/api/v1") as http:
        checkpoint = AuditCheckpoint.model_validate(http.get("/audit/checkpoint").json())
        assert checkpoint.verify(key).size == 5
        seqs = [e.seq for e in registry.events(after=0, limit=10).items]
        for seq in seqs:
            proof = InclusionProof.model_validate(
                http.get("/audit/proofs/inclusion", params={"seq": seq}).json())
            proof.verify()
            assert proof.root == checkpoint.root
        consistency = ConsistencyProof.model_validate(
            http.get("/audit/proofs/consistency", params={"from": 2, "to": 5}).json())
        consistency.verify()
        assert consistency.to_root == checkpoint.root

        missing = http.get("/audit/proofs/inclusion", params={"seq": 999})
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        too_big = http.get("/audit/proofs/consistency", params={"from": 3, "to": 9})
        assert too_big.status_code == 422 and too_big.json()["errors"][0]["path"] == "/to"
        not_int = http.get("/audit/proofs/inclusion", params={"seq": "x"})
        assert not_int.status_code == 422
