"""Signing keys per namespace, artifact manifests, and attestations (DSSE envelopes of
in-toto Statements about an artifact digest), thin over the service layer."""

from __future__ import annotations

from fastapi import APIRouter, status

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
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
                 principal: PrincipalDep) -> SigningKey:
    with located(path=("namespace",)):
        return registry.register_key(namespace, body, principal=principal)


@router.get(_KEYS, response_model=list[SigningKey], summary="A namespace's signing keys")
def list_keys(namespace: str, registry: RegistryDep,
              principal: PrincipalDep) -> list[SigningKey]:
    with located(path=("namespace",)):
        return registry.signing_keys(namespace, principal=principal)


@router.post(_KEYS + "/{key_id}/revoke", response_model=SigningKey,
             summary="Stop trusting a key")
def revoke_key(namespace: str, key_id: str, registry: RegistryDep,
               principal: PrincipalDep) -> SigningKey:
    with located(path=("namespace", "key_id")):
        return registry.revoke_key(namespace, key_id, principal=principal)


@router.get("/registry-key", response_model=RegistryKey,
            summary="The registry's own attestation key (verify its attestations with it)")
def registry_key(registry: RegistryDep) -> RegistryKey:
    return registry.registry_key()


@router.get("/manifests/{ref:path}", response_model=ArtifactManifest,
            summary="A model version's artifact manifest (per-file SHA-256, root digest)")
def get_manifest(ref: str, registry: RegistryDep,
                 principal: PrincipalDep) -> ArtifactManifest:
    with located(path=("ref",)):
        return registry.artifact_manifest(ref, principal=principal)


# declared before the catch-all below: a ref never ends in "/sign"
@router.post("/attestations/{ref:path}/sign", response_model=Attestation,
             status_code=status.HTTP_201_CREATED,
             summary="The registry signs SLSA provenance for the artifact")
def sign(ref: str, registry: RegistryDep, principal: PrincipalDep) -> Attestation:
    with located(path=("ref",)):
        return registry.attest(ref, principal=principal)


@router.post("/attestations/{ref:path}", response_model=Attestation,
             status_code=status.HTTP_201_CREATED,
             summary="Upload a DSSE envelope; verified against the namespace's keys")
def upload(ref: str, body: AttestationIn, registry: RegistryDep,
           principal: PrincipalDep) -> Attestation:
    with located(path=("ref",)):
        return registry.upload_attestation(ref, body, principal=principal)


@router.get("/attestations/{ref:path}", response_model=AttestationList,
            summary="An asset's attestations and their status")
def list_attestations(ref: str, registry: RegistryDep,
                      principal: PrincipalDep) -> AttestationList:
    with located(path=("ref",)):
        return registry.attestations(ref, principal=principal)
