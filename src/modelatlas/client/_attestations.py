"""``client.artifacts`` and ``client.attestations``: manifests are computed here, on the
caller's machine (the registry never reads a client's paths); signing keys, attestations
signed by the registry, and a team's DSSE envelopes uploaded for verification."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from modelatlas.client._transport import _Transport, _validated
from modelatlas.errors import InvalidInput
from modelatlas.integrity.manifest import DEFAULT_IGNORE, Manifest, ManifestDiff, hash_artifact
from modelatlas.registry.attestation_types import (
    ArtifactManifest,
    Attestation,
    AttestationIn,
    AttestationList,
    RegistryKey,
    SigningKey,
    SigningKeyIn,
)


class ArtifactsAPI:
    """``client.artifacts``: hash a local artifact, fetch a version's manifest, compare."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    @staticmethod
    def manifest(path: str | Path, *, allow_symlinks: bool = False,
                 ignore_paths: Iterable[str] = DEFAULT_IGNORE) -> dict[str, Any]:
        """The manifest of a local file or directory, as the in-toto Statement a
        registration takes (``register_version(..., manifest=...)``)."""
        return hash_artifact(path, allow_symlinks=allow_symlinks,
                             ignore_paths=ignore_paths).to_statement()

    def get(self, ref: str) -> ArtifactManifest:
        """The manifest recorded with a model version."""
        return self._t.artifact_manifest(ref)

    def verify(self, ref: str, path: str | Path) -> ManifestDiff:
        """Hash a local copy the way the recorded manifest was made and say which files
        differ (``.matches`` when none)."""
        recorded = self._t.artifact_manifest(ref).to_manifest()
        local: Manifest = hash_artifact(path, allow_symlinks=recorded.allow_symlinks,
                                        ignore_paths=recorded.ignore_paths)
        return recorded.diff(local)


class AttestationsAPI:
    """``client.attestations``: keys per namespace, and attestations about an artifact."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def register_key(self, namespace: str, public_key_pem: str | Path, *,
                     name: str = "") -> SigningKey:
        """Trust an Ed25519 or ECDSA P-256 public key (PEM text or a file) for uploads
        about ``namespace``'s assets."""
        pem = public_key_pem.read_text() if isinstance(public_key_pem, Path) else public_key_pem
        body = _validated(SigningKeyIn, {"public_key_pem": pem, "name": name})
        return self._t.register_key(namespace, body)

    def keys(self, namespace: str) -> list[SigningKey]:
        return self._t.signing_keys(namespace)

    def revoke_key(self, namespace: str, key_id: str) -> SigningKey:
        return self._t.revoke_key(namespace, key_id)

    def registry_key(self) -> RegistryKey:
        """The registry's own public key: its attestations verify with it."""
        return self._t.registry_key()

    def sign(self, ref: str) -> Attestation:
        """Ask the registry to sign SLSA provenance of the run that produced ``ref``."""
        return self._t.attest(ref)

    def upload(self, ref: str, envelope: Mapping[str, Any] | str | Path) -> Attestation:
        """Upload a DSSE envelope (or a model-signing Sigstore bundle): a mapping, JSON
        text, or a file."""
        if isinstance(envelope, Path):
            envelope = envelope.read_text(encoding="utf-8")
        try:
            document = json.loads(envelope) if isinstance(envelope, str) else dict(envelope)
        except ValueError:
            raise InvalidInput.at("/envelope", "not JSON") from None
        return self._t.upload_attestation(ref, _validated(AttestationIn,
                                                          {"envelope": document}))

    def list(self, ref: str) -> AttestationList:
        return self._t.attestations(ref)
