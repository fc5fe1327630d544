"""Wire type of an artifact whose bytes the registry stores (``/artifacts/{ref}/{name}``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StoredArtifact(BaseModel):
    ref: str = Field(description="the model version the bytes were uploaded for")
    name: str = Field(description="the artifact's name in the version's metadata")
    sha256: str = Field(description="SHA-256 of the bytes (hex), as the metadata records it")
    size: int = Field(description="bytes")
    stored_at: str
    stored_by: str
