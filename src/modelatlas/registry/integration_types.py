"""Wire types of the integrations: model cards in and out, deployment manifests in."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardImport(_In):
    """A Hugging Face-style README.md to read onto a model (``version``: onto that version
    instead of registering a new one)."""

    card: str = Field(max_length=1024 * 1024, description="the README.md text")
    version: int | None = Field(default=None, ge=1, description="an existing version")


class CardImported(BaseModel):
    model: str
    model_version: str | None = Field(description="the version the card's results, datasets "
                                      "and base models were recorded on, if any")
    changed: bool = Field(description="false: the registry already held everything the "
                          "card says")
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    relations: list[str] = Field(default_factory=list, description="edges added, as "
                                 "'source relation target'")
    notes: list[str] = Field(default_factory=list, description="what was read but not used")


class DeploymentsImport(_In):
    manifests: list[str] = Field(min_length=1, max_length=100,
                                 description="YAML texts, each one or more documents")
    sources: list[str] | None = Field(default=None, max_length=100, description="a name "
                                      "per manifest for the report (default manifest-N)")
    namespace: str | None = Field(default=None, description="where the deployments go "
                                  "(default: each manifest's metadata.namespace)")
    strict: bool = Field(default=False, description="refuse the import (nothing written) "
                         "when a deployment matches no model version")


class DeploymentMatch(BaseModel):
    deployment: str
    source: str
    platform: str
    status: Literal["matched", "unmatched", "ambiguous"]
    matched_by: Literal["uri", "sha256"] | None = None
    serves: list[str] = Field(default_factory=list)
    candidates: list[str] = Field(default_factory=list, description="versions an ambiguous "
                                  "storage URI names (none linked)")
    storage_uris: list[str] = Field(default_factory=list)
    changed: bool


class SkippedManifest(BaseModel):
    source: str
    kind: str
    reason: str


class DeploymentsImported(BaseModel):
    deployments: list[DeploymentMatch]
    skipped: list[SkippedManifest]
    matched: int
    unmatched: int
