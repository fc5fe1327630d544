"""Wire types of artifact manifests, signing keys and attestations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelatlas.integrity.manifest import FileDigest, Manifest


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SigningKeyIn(_In):
    """A public key a team signs attestations with: PEM SubjectPublicKeyInfo, Ed25519 or
    ECDSA P-256."""

    public_key_pem: str = Field(min_length=1, max_length=10_000)
    name: str = Field(default="", max_length=200, description="a label, e.g. ci-signer-2026")


class SigningKey(BaseModel):
    namespace: str
    key_id: str = Field(description="SHA-256 (hex) of the key's DER SubjectPublicKeyInfo")
    algorithm: str
    name: str = ""
    public_key_pem: str
    created_at: str
    created_by: str
    revoked_at: str | None = None
    revoked_by: str | None = None


class RegistryKey(BaseModel):
    """The registry's own attestation key (Ed25519): verify its attestations with it."""

    key_id: str
    algorithm: str
    public_key_pem: str


class ManifestFile(BaseModel):
    name: str
    sha256: str


class ArtifactManifest(BaseModel):
    """A model version's artifact: per-file SHA-256 and the root digest (also the
    version's ``digests["sha256"]``), in the OpenSSF model-signing v1.0 format."""

    ref: str
    root_digest: str
    model_name: str
    allow_symlinks: bool = False
    ignore_paths: list[str] = Field(default_factory=list)
    files: list[ManifestFile]
    created_at: str
    created_by: str

    def to_manifest(self) -> Manifest:
        return Manifest(
            self.model_name,
            tuple(sorted(FileDigest(() if f.name == "." else tuple(f.name.split("/")), f.sha256)
                         for f in self.files)),
            self.allow_symlinks, tuple(self.ignore_paths))


class AttestationIn(_In):
    """A DSSE envelope (or a Sigstore bundle holding one, as model-signing writes)."""

    envelope: dict[str, Any]


AttestationStatus = Literal["verified", "key_revoked"]


class Attestation(BaseModel):
    id: int
    ref: str
    subject_digest: str = Field(description="algorithm:hex, the artifact digest it is about")
    predicate_type: str
    signer: str = Field(description="the namespace whose key verified it, or 'registry'")
    key_ids: list[str]
    status: AttestationStatus = Field(
        description="verified; key_revoked when every key that signed it is revoked since")
    event_seq: int = Field(description="the attestation.stored event: its time is in the log")
    created_at: str
    created_by: str
    envelope: dict[str, Any]
    statement: dict[str, Any] = Field(description="the verified payload, decoded")


class AttestationList(BaseModel):
    """An asset's attestations (newest first) and its artifact digest."""

    ref: str
    artifact_digest: str | None = None
    status: Literal["none", "verified", "key_revoked"] = "none"
    items: list[Attestation] = Field(default_factory=list)
