"""Access control wired into dependencies, impact, attestations and keys, manifests, the
provenance report and OpenLineage ingestion: a matrix of callers x operations (allowed and
denied), on SQLite and PostgreSQL, each denial leaving an ``access.denied`` event; an
unreadable asset answered as a missing one; impact and provenance that hide without lying.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from modelatlas.api import create_app
from modelatlas.api.testing import running_server
from modelatlas.config import Settings
from modelatlas.errors import Forbidden, InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.governance.roles import Role
from modelatlas.integrity.manifest import hash_artifact
from modelatlas.lineage.openlineage import dataset_ref
from modelatlas.registry import AssetCreate, EnvironmentIn, Registry, VersionRegistration

CHURN = "model_version:fraud/churn@1"
SCORE = "model_version:risk/score@1"
SECRET = "dataset:vault/secret@1"
OL_CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
OL_PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.12.0/client/python"
KEY_PEM = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
"""

INLINE_ENV = EnvironmentIn.model_validate({"name": "x", "python": "3.11",
                                          "packages": {"numpy": "1.26.4"}})
# who calls, and the role they hold in ``fraud`` (for the read-scoped token: its person's)
CALLERS: dict[str, Principal] = {
    "viewer": Principal(kind="user", person="alice"),
    "contributor": Principal(kind="user", person="carol"),
    "maintainer": Principal(kind="user", person="mike"),
    "admin": Principal(kind="user", person="adam"),
    "group": Principal(kind="user", person="gus", groups=frozenset({"fraud-team"})),
    "nobody": Principal(kind="user", person="nora"),
    "read-token": Principal(kind="token", person="mike", token_id="tok-1",
                            scopes=frozenset({"read"})),
}
GRANTS = [("user", "alice", "viewer"), ("user", "carol", "contributor"),
          ("user", "mike", "maintainer"), ("user", "adam", "admin"),
          ("group", "fraud-team", "contributor")]
# what each caller may do in fraud: its role, and whether its credential may write
HOLDS: dict[str, tuple[Role | None, bool]] = {
    "viewer": (Role.VIEWER, True), "contributor": (Role.CONTRIBUTOR, True),
    "maintainer": (Role.MAINTAINER, True), "admin": (Role.ADMIN, True),
    "group": (Role.CONTRIBUTOR, True), "nobody": (None, True),
    "read-token": (Role.MAINTAINER, False),
}


def _ol_event(index: int) -> dict[str, Any]:
    return {"eventType": "START", "eventTime": f"2024-05-01T10:{index:02d}:00Z",
            "run": {"runId": str(uuid.UUID(int=index + 1, version=4))},
            "job": {"namespace": "fraud", "name": f"job_{index}"},
            "inputs": [], "outputs": [], "producer": OL_PRODUCER, "schemaURL": OL_CORE}


def _build(registry: Registry) -> None:
    """fraud/churn@1 with requirements, a manifest, a run on a fraud and a vault dataset;
    risk/score@1 with the same numpy constraint; an environment in platform."""
    artifact = registry.settings.home / "model.bin"
    artifact.write_bytes(b"weights")
    registry.register_version("fraud", "churn", VersionRegistration.model_validate({
        "manifest": hash_artifact(artifact).to_statement(),
        "requirements": {"packages": ["numpy>=1.24,<2"]},
        "run": {"metadata": {"parameters": {"lr": 0.1}}},
        "datasets": [{"ref": "dataset:fraud/tx@1"}, {"ref": SECRET}],
    }))
    registry.register_version("risk", "score", VersionRegistration.model_validate(
        {"requirements": {"packages": ["numpy<2"]}}))
    registry.create_asset(AssetCreate(ref="environment:platform/serving",
                                      metadata={"python": "3.11",
                                                "packages": ["numpy==1.26.4"]}))
    for kind, name, role in GRANTS:
        registry.grant_role("fraud", {"principal_type": kind, "principal_name": name,
                                      "role": role})


@pytest.fixture
def world(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    """This test's copy of the world (built once per process and backend: ~200 tests)."""
    return worlds(_build)[0]


Call = Callable[[Registry, Principal], object]
# operation, the call, least role, whether it writes, how a caller who may not read the
# asset is answered (NotFound: as if it were missing; Forbidden: a namespace-level right)
OPERATIONS: list[tuple[str, Call, Role, bool, type[Exception]]] = [
    ("requirements", lambda r, p: r.requirements(CHURN, principal=p), Role.VIEWER, False,
     NotFound),
    ("check", lambda r, p: r.check(CHURN, environment=INLINE_ENV, principal=p), Role.VIEWER,
     False, NotFound),
    ("resolve", lambda r, p: r.resolve({"refs": [CHURN]}, principal=p), Role.VIEWER, False,
     NotFound),
    ("why", lambda r, p: r.why({"ref": CHURN, "package": "numpy"}, principal=p),
     Role.VIEWER, False, NotFound),
    ("provenance", lambda r, p: r.provenance_report(CHURN, principal=p), Role.VIEWER, False,
     NotFound),
    ("manifest", lambda r, p: r.artifact_manifest(CHURN, principal=p), Role.VIEWER, False,
     NotFound),
    ("attestations", lambda r, p: r.attestations(CHURN, principal=p), Role.VIEWER, False,
     NotFound),
    ("keys", lambda r, p: r.signing_keys("fraud", principal=p), Role.VIEWER, False,
     Forbidden),
    ("impact", lambda r, p: r.impact({"asset": "dataset:fraud/tx@1"}, principal=p),
     Role.VIEWER, False, NotFound),
    ("set_requirements", lambda r, p: r.set_requirements(
        CHURN, {"packages": ["numpy>=1.25,<2"]}, principal=p), Role.CONTRIBUTOR, True,
     NotFound),
    ("attest", lambda r, p: r.attest(CHURN, principal=p), Role.CONTRIBUTOR, True, NotFound),
    ("openlineage", lambda r, p: r.ingest_openlineage(_ol_event(1), principal=p),
     Role.CONTRIBUTOR, True, Forbidden),
    ("openlineage_grouped", lambda r, p: r.ingest_openlineage(_ol_event(2), principal=p,
                                                              grouped=True),
     Role.CONTRIBUTOR, True, Forbidden),
    ("register_key", lambda r, p: r.register_key("fraud", {"public_key_pem": KEY_PEM},
                                                 principal=p), Role.ADMIN, True, Forbidden),
]


def _denials(registry: Registry) -> list[tuple[str, str]]:
    return [(e.actor, e.payload["action"]) for e in registry.events(limit=500).items
            if e.action == "access.denied"]


def _expected(caller: str, least: Role, writes: bool, unreadable: type[Exception]
              ) -> type[Exception] | None:
    role, may_write = HOLDS[caller]
    if role is None:
        return unreadable
    if role.covers(least) and (may_write or not writes):
        return None
    return Forbidden


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize(("name", "call", "least", "writes", "unreadable"), OPERATIONS,
                         ids=[o[0] for o in OPERATIONS])
def test_the_role_matrix(world: Registry, caller: str, name: str, call: Call, least: Role,
                         writes: bool, unreadable: type[Exception]) -> None:
    principal = CALLERS[caller]
    before = len(_denials(world))
    expected = _expected(caller, least, writes, unreadable)
    if expected is None:
        assert call(world, principal) is not None
        assert len(_denials(world)) == before
        return
    with pytest.raises(expected) as refused:
        call(world, principal)
    denials = _denials(world)
    assert len(denials) == before + 1 and denials[-1][0] == principal.actor
    if expected is NotFound:  # the same answer as for an asset that is not there
        assert "does not exist" in str(refused.value)


def test_the_local_user_and_the_events_name_the_caller(world: Registry) -> None:
    carol = CALLERS["contributor"]
    world.set_requirements(CHURN, {"packages": ["numpy>=1.25,<2"]}, principal=carol)
    world.ingest_openlineage([_ol_event(3)], principal=carol)
    actors = {e.action: e.actor for e in world.events(limit=500).items}
    assert actors["requirements.set"] == "carol" and actors["asset.created"] == "carol"
    assert world.requirements(CHURN).packages[0].requirement == "numpy<2,>=1.25"


def test_an_unreadable_asset_is_answered_as_a_missing_one(world: Registry) -> None:
    carol = CALLERS["contributor"]
    with pytest.raises(NotFound) as unreadable:
        world.requirements(SCORE, principal=carol)
    with pytest.raises(NotFound) as missing:
        world.requirements("model_version:risk/nothing@1", principal=carol)
    assert [e.path for e in unreadable.value.errors] == [e.path for e in missing.value.errors]
    with pytest.raises(NotFound) as several:  # every version of a resolve must be readable
        world.resolve({"refs": [CHURN, SCORE]}, principal=carol)
    assert [e.path for e in several.value.errors] == ["/refs/1"]
    with pytest.raises(InvalidInput) as target:  # a check's target, as a missing one: 422
        world.check(CHURN, "environment:platform/serving", principal=carol)
    assert [e.path for e in target.value.errors] == ["/target"]
    assert "does not exist" in str(target.value)
    assert world.check(CHURN, "environment:platform/serving").compatible


def test_impact_lists_what_the_caller_may_read_and_counts_the_rest(world: Registry) -> None:
    change = {"environment": "environment:platform/serving", "package": "numpy", "to": "2.1.0",
              "scope": "registry"}
    everything = world.impact(change)
    assert {a.ref for a in everything.model_versions} == {CHURN, SCORE}
    world.grant_role("platform", {"principal_type": "user", "principal_name": "carol",
                                  "role": "viewer"})
    seen = world.impact(change, principal=CALLERS["contributor"])
    assert [a.ref for a in seen.model_versions] == [CHURN]
    assert seen.hidden == 1 and everything.hidden == 0


def test_the_provenance_report_redacts_what_the_caller_may_not_read(world: Registry) -> None:
    whole = world.provenance_report(CHURN)
    assert SECRET in {d.ref for d in whole.raw_data}
    seen = world.provenance_report(CHURN, principal=CALLERS["viewer"])
    assert len(seen.raw_data) == len(whole.raw_data)  # redacted, not dropped
    redacted = [d for d in seen.raw_data if d.ref == "redacted"]
    assert [(d.kind, d.who) for d in redacted] == [("dataset", "redacted")]
    assert "vault" not in seen.model_dump_json()
    assert "dataset:fraud/tx@1" in {d.ref for d in seen.raw_data}


def test_an_ingest_touching_one_forbidden_namespace_writes_nothing(world: Registry) -> None:
    carol = CALLERS["contributor"]
    event = _ol_event(4)
    event["outputs"] = [{"namespace": "vault", "name": "leak"}]
    forbidden = dataset_ref("vault", "leak").namespace
    before = world.events(limit=500).items[-1].seq
    with pytest.raises(Forbidden) as refused:
        world.ingest_openlineage([_ol_event(5), event], principal=carol)
    assert forbidden in str(refused.value)
    after = world.events(after=before, limit=100).items
    assert [e.action for e in after] == ["access.denied"]
    with pytest.raises(Forbidden):  # the grouped path refuses before joining a group
        world.ingest_openlineage(event, principal=carol, grouped=True)
    assert world.ingest_openlineage(_ol_event(6), principal=carol, grouped=True).events == 1


def test_keys_need_admin_and_revocation_too(world: Registry) -> None:
    adam, mike = CALLERS["admin"], CALLERS["maintainer"]
    key = world.register_key("fraud", {"public_key_pem": KEY_PEM}, principal=adam)
    with pytest.raises(Forbidden):
        world.revoke_key("fraud", key.key_id, principal=mike)
    assert world.revoke_key("fraud", key.key_id, principal=adam).revoked_by == "adam"
    assert [k.key_id for k in world.signing_keys("fraud", principal=mike)] == [key.key_id]


def test_over_http_with_real_tokens(world: Registry, settings: Settings) -> None:
    """The routes pass the authenticated caller through: reads 200 or 404, writes 403."""
    app = create_app(settings.model_copy(update={"auth_required": True}), world)
    tokens = {who: world.create_token({"name": "ci"}, principal=CALLERS[who]).token
              for who in ("contributor", "nobody")}
    leak = _ol_event(7)
    leak["outputs"] = [{"namespace": "vault", "name": "leak"}]
    with running_server(app) as url:
        def http(who: str) -> httpx.Client:
            return httpx.Client(base_url=url + "/api/v1",
                                headers={"Authorization": f"Bearer {tokens[who]}"})

        with http("contributor") as carol, http("nobody") as nora:
            assert carol.get(f"/deps/requirements/{CHURN}").status_code == 200
            assert carol.get(f"/deps/requirements/{SCORE}").status_code == 404
            assert nora.get(f"/provenance/{CHURN}").status_code == 404
            assert nora.get(f"/attestations/{CHURN}").status_code == 404
            assert carol.post(f"/attestations/{CHURN}/sign").status_code == 201
            denied = carol.post("/namespaces/fraud/keys", json={"public_key_pem": KEY_PEM})
            assert denied.status_code == 403 and denied.json()["action"] == "key.manage"
            assert carol.post("/lineage", json=leak).status_code == 403
            made = carol.post("/lineage", json=_ol_event(8))
            assert made.status_code == 200 and made.json()["events"] == 1
            gone = carol.post("/deps/impact", json={
                "environment": "environment:platform/serving", "package": "numpy",
                "to": "2.1.0", "scope": "registry"})
            assert gone.status_code == 404  # carol may not read the platform environment
    actors = [(e.actor, e.action) for e in world.events(limit=500).items]
    assert ("carol", "attestation.stored") in actors and ("carol", "asset.created") in actors
    assert [p for p in _denials(world) if p[0] == "carol"] == [
        ("carol", "asset.read"), ("carol", "key.manage"), ("carol", "asset.create"),
        ("carol", "asset.read")]
