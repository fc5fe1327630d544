"""The demo's governance story, written after the organisation exists, so every page of
the UI has something to show: a promotion policy, a version waiting for approval (with a
comment and release notes before it), deprecation plans with replacements, a team-signed
attestation, a revalidation mark and a ``champion`` alias.

The showcase is ``fraud/card-fraud-detector``: its versions are registered without a stage
and walked through the stages here (v1 archived, v2 promoted with release notes, v3 in
staging), then its team's policy asks for one approval and a passing evaluation, and v3's
promotion is requested by its author, which the policy refuses and records as an open
request. Its authors are the fraud team's people, so the local user of ``make run`` (and
any other maintainer) may approve it: separation of duties binds people.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from modelatlas.errors import Conflict
from modelatlas.integrity import dsse, intoto
from modelatlas.integrity.manifest import FileDigest, Manifest
from modelatlas.registry import Registry

SHOWCASE = "fraud/card-fraud-detector"
SHOWCASE_LIFECYCLE = ("archived", "production", "staging")
SHOWCASE_REVIEWER = "lukas.brandt"
REVALIDATED_FEATURE = "fraud/device-risk"  # a new version marks the deployed models using it
POLICY = {"required_approvals": 1, "require_passing_evaluation": True}
DEPRECATION_NOTICE = timedelta(days=120)


def manifest_of(name: str, artifacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The model-signing manifest of a version's listed artifact files (their digests are
    the metadata's), so the version has a root digest that approvals and attestations
    bind to."""
    files = sorted(FileDigest((str(a["uri"]).rpartition("/")[2],), str(a["sha256"]))
                   for a in artifacts)
    return Manifest(model_name=name, files=tuple(files)).to_statement()


def _version(n: int) -> str:
    return f"model_version:{SHOWCASE}@{n}"


class Governance:
    """The showcase's steps, in order; ``key_seed`` makes the fraud team's signing key
    (drawn from the demo's seed, so a seed always gives the same key)."""

    def __init__(self, registry: Registry, key_seed: bytes) -> None:
        self.registry = registry
        self.key = ed25519.Ed25519PrivateKey.from_private_bytes(key_seed)

    def _stage(self, n: int, stage: str, actor: str, **text: str) -> None:
        namespace, name = SHOWCASE.split("/")
        self.registry.set_stage(namespace, name, n, {"stage": stage, **text}, actor=actor)

    def stage_walk(self) -> None:
        """v1 retired, v2 promoted with release notes, v3 staged: before the policy."""
        self._stage(1, "archived", "amara.okafor", comment="Superseded by v2.")
        self._stage(2, "staging", "lukas.brandt")
        self._stage(2, "production", "lukas.brandt", release_notes=(
            "Adds merchant-risk features; AUC up on the EU and card-present slices. "
            "Rollback: point champion back at v1."))
        self._stage(3, "staging", "amara.okafor", release_notes=(
            "Retrained on the Q3 transactions snapshot with fresher dispute labels."))

    def policy_and_request(self) -> None:
        """The fraud team's policy, a reviewer's comment, and v3's refused promotion,
        which leaves the open request the approvals inbox shows."""
        namespace, name = SHOWCASE.split("/")
        self.registry.set_promotion_policy(namespace, POLICY, actor="amara.okafor")
        self.registry.comment_version(namespace, name, 3, {"body": (
            "Latency p95 is within the 40 ms budget on the canary replay. Checked the "
            "holdout evaluation: no slice regresses by more than 0.5 points.")},
            actor=SHOWCASE_REVIEWER)
        try:
            self._stage(3, "production", "amara.okafor",
                        comment="Ready for production: beats v2 on AUC and recall.")
        except Conflict:
            pass  # the policy wants an approval: the request is recorded, as intended
        else:
            raise AssertionError(f"{_version(3)} was promoted without an approval")

    def champion_and_attestation(self) -> None:
        """``champion`` points at v2, whose artifact the team's CI attested with a key the
        fraud namespace trusts (the kind of attestation a policy can require)."""
        namespace, name = SHOWCASE.split("/")
        self.registry.set_alias(namespace, name, "champion", {"version": 2},
                                actor="lukas.brandt")
        public = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.registry.register_key(namespace, {"public_key_pem": public.decode(),
                                               "name": "fraud-ci"}, actor="amara.okafor")
        digest = self.registry.get_asset(_version(2)).digests["sha256"]
        statement = intoto.statement(name, {"sha256": digest}, intoto.SLSA_PROVENANCE_V1,
                                     {"builder": {"id": "https://github.com/acme/fraud-models"
                                                        "/.github/workflows/train.yml"}})
        envelope = dsse.sign_envelope(intoto.PAYLOAD_TYPE, json.dumps(statement).encode(),
                                      [dsse.KeySigner(self.key)])
        self.registry.upload_attestation(_version(2), {"envelope": envelope.to_json()},
                                         actor="lukas.brandt")


def deprecate(registry: Registry, model: str, version: int, replacement: int, *,
              actor: str) -> None:
    """A deprecated version gets its plan: a sunset, why, and what replaces it."""
    sunset = (datetime.now(UTC) + DEPRECATION_NOTICE).date().isoformat()
    registry.deprecate(f"model_version:{model}@{version}", {
        "sunset": sunset, "reason": f"v{replacement} is retrained on fresher data; "
                                    f"v{version} stops being served at the sunset",
        "replacement": f"model_version:{model}@{replacement}"}, actor=actor)
