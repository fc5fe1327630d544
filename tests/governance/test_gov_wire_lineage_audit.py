"""Access control of the audit log (on SQLite and PostgreSQL) and of lineage and audit over
HTTP with real tokens.

Checkpoints and proofs carry only hashes: any authenticated caller may have them. The
event behind a proof (its leaf) is shown only to a registry-wide audit reader or to one who
may read the asset the event is about; the export (every event) needs ``audit.read`` on
``*``; keeping a cosignature needs ``audit.cosign`` on ``*``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import pytest

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.config import Settings
from modelatlas.errors import Forbidden
from modelatlas.governance.principal import Principal
from modelatlas.integrity.note import Signer, Verifier
from modelatlas.integrity.witness import cosign, split_note
from modelatlas.registry import AssetCreate, Registry, RelationCreate
from modelatlas.registry.audit_types import CosignRequest

API = "/api/v1"
RAW, MID, AGG = "dataset:fraud/raw@1", "dataset:vault/mid@1", "feature:fraud/agg@1"

CALLERS: dict[str, Principal] = {
    "viewer": Principal(kind="user", person="alice"),
    "fraud-maintainer": Principal(kind="user", person="mike"),
    "wide-viewer": Principal(kind="user", person="wendy"),
    "auditor": Principal(kind="user", person="audrey"),
    "auditor-read-token": Principal(kind="token", person="audrey", token_id="tok-a",
                                    scopes=frozenset({"read"})),
    "witness": Principal(kind="user", person="wit"),
    "witness-read-token": Principal(kind="token", person="wit", token_id="tok-w",
                                    scopes=frozenset({"read"})),
    "nobody": Principal(kind="user", person="nora"),
}
GRANTS = [("fraud", "alice", "viewer"), ("fraud", "mike", "maintainer"),
          ("*", "wendy", "viewer"), ("*", "audrey", "maintainer"), ("*", "wit", "viewer")]
# may the caller see the leaf of an event about a fraud asset, a vault asset, a grant?
LEAVES: dict[str, tuple[bool, bool, bool]] = {
    "viewer": (True, False, False), "fraud-maintainer": (True, False, False),
    "wide-viewer": (True, True, False), "auditor": (True, True, True),
    "auditor-read-token": (True, True, True), "witness": (True, True, False),
    "witness-read-token": (True, True, False), "nobody": (False, False, False),
}
EXPORTS = {"auditor", "auditor-read-token"}
COSIGNS = {"witness", "wide-viewer", "auditor"}  # viewer on * with a credential that writes


def _build_world(registry: Registry) -> None:
    for ref in (RAW, MID, AGG):
        registry.create_asset(AssetCreate(ref=ref))
    registry.add_relation(RelationCreate(source=MID, relation="derived_from", target=RAW))
    registry.add_relation(RelationCreate(source=AGG, relation="derived_from", target=MID))
    for namespace, name, role in GRANTS:
        registry.grant_role(namespace, {"principal_type": "user", "principal_name": name,
                                        "role": role})


@pytest.fixture
def world(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    return worlds(_build_world)[0]


def _seq(registry: Registry, action: str, ref: str) -> int:
    return next(e.seq for e in registry.events(limit=500).items
                if e.action == action and e.ref == ref)


def _denials(registry: Registry) -> list[tuple[str, str]]:
    return [(e.actor, e.payload["action"]) for e in registry.events(limit=500).items
            if e.action == "access.denied"]


@pytest.mark.parametrize("caller", list(CALLERS))
def test_hashes_for_everyone_leaves_for_readers(world: Registry, caller: str) -> None:
    who = CALLERS[caller]
    head = world.audit_checkpoint(principal=who)
    head.verify(world.audit_public_key())
    world.audit_consistency_proof(1, head.size, principal=who).verify()
    about = [_seq(world, "asset.created", RAW), _seq(world, "asset.created", MID),
             _seq(world, "role.granted", "namespace:fraud")]
    for seq, shown in zip(about, LEAVES[caller], strict=True):
        proof = world.audit_inclusion_proof(seq, principal=who)
        proof.verify()  # the hashes prove inclusion whether or not the leaf is shown
        full = world.audit_inclusion_proof(seq)
        assert proof.leaf_hash == full.leaf_hash and proof.root == full.root
        assert proof.leaf == (full.leaf if shown else None)
    assert _denials(world) == []  # withholding a leaf refuses nothing


@pytest.mark.parametrize("caller", list(CALLERS))
def test_the_export_needs_audit_read_everywhere(world: Registry, caller: str) -> None:
    out = io.BytesIO()
    if caller in EXPORTS:
        assert world.audit_export(out, principal=CALLERS[caller]) > 0
        assert out.getvalue()
        return
    with pytest.raises(Forbidden):
        world.audit_export(out, principal=CALLERS[caller])
    assert out.getvalue() == b""
    assert _denials(world) == [(CALLERS[caller].actor, "audit.read")]


@pytest.mark.parametrize("caller", list(CALLERS))
def test_a_cosignature_needs_audit_cosign_everywhere(world: Registry, caller: str) -> None:
    witness = Signer.generate("witness.example.org")
    note = world.audit_checkpoint().signed_note
    body = CosignRequest(signed_note=cosign(note, log_key=Verifier.parse(
        world.audit_public_key()), witness=witness), witness_key=str(witness.verifier))
    if caller in COSIGNS:
        kept = world.audit_cosign(body, principal=CALLERS[caller])
        assert len(split_note(kept.signed_note)[1]) == 2
        return
    with pytest.raises(Forbidden):
        world.audit_cosign(body, principal=CALLERS[caller])
    assert len(split_note(world.audit_checkpoint().signed_note)[1]) == 1
    assert _denials(world) == [(CALLERS[caller].actor, "audit.cosign")]


def test_the_local_user_may_do_all_of_it(world: Registry) -> None:
    assert world.audit_export(io.BytesIO()) > 0
    assert world.audit_inclusion_proof(1).leaf is not None
    assert world.audit_verify().events > 0


def test_over_http_with_real_tokens(world: Registry, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auth_required": True}), world)
    tokens = {who: world.create_token({"name": "ci"}, principal=CALLERS[who]).token
              for who in ("viewer", "nobody", "auditor")}
    mid_seq = _seq(world, "asset.created", MID)
    with running_server(app) as url:
        def http(who: str | None) -> httpx.Client:
            headers = {} if who is None else {"Authorization": f"Bearer {tokens[who]}"}
            return httpx.Client(base_url=url + API, headers=headers)

        with http("viewer") as alice, http("nobody") as nora, http(None) as anonymous:
            graph = alice.get(f"/lineage/{RAW}", params={"depth": 3}).json()
            hidden = [n for n in graph["nodes"] if n["redacted"]]
            assert [(n["ref"], n["kind"], n["depth"]) for n in hidden] == [
                ("redacted:1", "dataset", 1)]
            assert {"source": "redacted:1", "relation": "derived_from",
                    "target": RAW} in graph["edges"]
            assert AGG in {n["ref"] for n in graph["nodes"]}
            paths = alice.get("/lineage-paths", params={"source": RAW, "target": AGG}).json()
            assert paths["paths"][0]["refs"] == [RAW, "redacted:1", AGG]
            assert alice.get(f"/blast-radius/{RAW}").status_code == 200
            for path in (f"/lineage/{MID}", f"/blast-radius/{MID}"):
                refused = alice.get(path)
                assert refused.status_code == 404 and refused.json()["code"] == "not_found"
            assert nora.get(f"/lineage/{RAW}").status_code == 404
            assert anonymous.get(f"/lineage/{RAW}").status_code == 401
            assert anonymous.get("/audit/checkpoint").status_code == 401
            assert nora.get("/audit/checkpoint").status_code == 200
            proof = nora.get("/audit/proofs/inclusion", params={"seq": mid_seq}).json()
            assert proof["leaf"] is None and proof["leaf_hash"]
            assert alice.get("/audit/proofs/consistency", params={"from": 1}).status_code == 200
        with http("auditor") as audrey:
            proof = audrey.get("/audit/proofs/inclusion", params={"seq": mid_seq}).json()
            assert MID in proof["leaf"]
    assert ("alice", "asset.read") in _denials(world)
    assert ("nora", "asset.read") in _denials(world)
