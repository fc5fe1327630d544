"""Signing keys per namespace, artifact manifests, and attestations (DSSE envelopes of
in-toto Statements about an artifact digest), thin over the service layer."""

from __future__ import annotations

from fastapi import APIRouter, status

from modelatlas.api._deps import ActorDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.attestation_types import (
    ArtifactManifest,
    Attestation,
    AttestationIn,
    AttestationList,
    RegistryKey,
    SigningKey,
    SigningKeyIn,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["attestations"],
                   responses=PROBLEM_RESPONSES)

_KEYS = "/namespaces/{namespace}/keys"


@router.post(_KEYS, response_model=SigningKey, status_code=status.HTTP_201_CREATED,
             summary="Trust a public key for a namespace's attestations")
def register_key(namespace: str, body: SigningKeyIn, registry: RegistryDep,
                 actor: ActorDep) -> SigningKey:
    with located(path=("namespace",)):
        return registry.register_key(namespace, body, actor=actor)


@router.get(_KEYS, response_model=list[SigningKey], summary="A namespace's signing keys")
def list_keys(namespace: str, registry: RegistryDep) -> list[SigningKey]:
    with located(path=("namespace",)):
        return registry.signing_keys(namespace)


@router.post(_KEYS + "/{key_id}/revoke", response_model=SigningKey,
             summary="Stop trusting a key")
def revoke_key(namespace: str, key_id: str, registry: RegistryDep,
               actor: ActorDep) -> SigningKey:
    with located(path=("namespace", "key_id")):
        return registry.revoke_key(namespace, key_id, actor=actor)


@router.get("/registry-key", response_model=RegistryKey,
            summary="The registry's own attestation key (verify its attestations with it)")
def registry_key(registry: RegistryDep) -> RegistryKey:
    return registry.registry_key()


@router.get("/manifests/{ref:path}", response_model=ArtifactManifest,
            summary="A model version's artifact manifest (per-file SHA-256, root digest)")
def get_manifest(ref: str, registry: RegistryDep) -> ArtifactManifest:
    with located(path=("ref",)):
        return registry.artifact_manifest(ref)


# declared before the catch-all below: a ref never ends in "/sign"
@router.post("/attestations/{ref:path}/sign", response_model=Attestation,
             status_code=status.HTTP_201_CREATED,
             summary="The registry signs SLSA provenance for the artifact")
def sign(ref: str, registry: RegistryDep, actor: ActorDep) -> Attestation:
    with located(path=("ref",)):
        return registry.attest(ref, actor=actor)


@router.post("/attestations/{ref:path}", response_model=Attestation,
             status_code=status.HTTP_201_CREATED,
             summary="Upload a DSSE envelope; verified against the namespace's keys")
def upload(ref: str, body: AttestationIn, registry: RegistryDep,
           actor: ActorDep) -> Attestation:
    with located(path=("ref",)):
        return registry.upload_attestation(ref, body, actor=actor)


@router.get("/attestations/{ref:path}", response_model=AttestationList,
            summary="An asset's attestations and their status")
def list_attestations(ref: str, registry: RegistryDep) -> AttestationList:
    with located(path=("ref",)):
        return registry.attestations(ref)
