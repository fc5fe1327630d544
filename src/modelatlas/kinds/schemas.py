"""The metadata schema of each kind, with the history of its versions.

Change a schema by bumping ``schema_version`` in :data:`SPECS` and adding an upgrader from
the previous version; never edit an upgrader once released, since stored records depend
on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from modelatlas.kinds._base import KindSpec, Metadata
from modelatlas.kinds.uris import FileName, Uri

Scalar = str | int | float | bool | None


class Artifact(Metadata):
    uri: Uri = Field(min_length=1, max_length=2000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    name: FileName | None = None


class ModelMeta(Metadata):
    task: str | None = None
    framework: str | None = None
    license: str | None = None
    card: str | None = Field(default=None, description="model card text (Markdown)")


class ModelVersionMeta(Metadata):
    framework: str | None = None
    framework_version: str | None = None
    task: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    artifacts: list[Artifact] = Field(default_factory=list)
    signature: dict[str, Any] | None = None
    release_notes: str | None = None


class DatasetMeta(Metadata):
    """Schema version 2: ``rows`` became ``row_count`` and the bare ``sha256`` became an
    algorithm-prefixed ``digest`` (so other hash algorithms can follow)."""

    location: Uri | None = None
    format: str | None = None
    row_count: int | None = Field(default=None, ge=0)
    size_bytes: int | None = Field(default=None, ge=0)
    digest: str | None = Field(default=None, pattern=r"^[a-z0-9]+:[0-9a-f]{32,128}$")
    partitioned_by: list[str] = Field(default_factory=list)


def _dataset_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    if "rows" in data:
        data["row_count"] = data.pop("rows")
    sha = data.pop("sha256", None)
    if sha:
        data["digest"] = f"sha256:{sha}"
    return data


class FeatureField(Metadata):
    name: str
    dtype: str
    description: str | None = None


class FeatureMeta(Metadata):
    entities: list[str] = Field(default_factory=list)
    features: list[FeatureField] = Field(default_factory=list)
    source: str | None = Field(default=None, description="source dataset ref or query")
    transformation: str | None = None
    online: bool = False
    ttl_seconds: int | None = Field(default=None, ge=0)


class SchemaField(Metadata):
    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    nullable: bool = True
    description: str | None = None
    default: Scalar | list[Any] | dict[str, Any] | None = Field(
        default=None, description="what readers use when data lacks the field; None: no "
        "default (a nullable field defaults to null)")
    aliases: list[str] | None = Field(default=None, description="earlier names of the field")


class SchemaMeta(Metadata):
    fields: list[SchemaField] = Field(default_factory=list)
    format: str | None = Field(default=None, description="avro, parquet, json-schema ...")


class EnvironmentMeta(Metadata):
    python: str | None = None
    packages: list[str] = Field(default_factory=list, description="PEP 508 requirements")
    image: str | None = None
    accelerator: Literal["cpu", "gpu", "tpu"] = "cpu"
    cuda: str | None = None
    platform: str | None = None


class CodeMeta(Metadata):
    repository: Uri | None = None
    commit: str | None = Field(default=None, pattern=r"^[0-9a-f]{7,64}$")
    path: str | None = None
    branch: str | None = None


class RunMeta(Metadata):
    run_type: str = "training"
    parameters: dict[str, Scalar] = Field(default_factory=dict)
    seeds: dict[str, int] = Field(default_factory=dict)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    status: Literal["scheduled", "running", "completed", "failed", "aborted"] = "completed"
    user: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)


class SliceResult(Metadata):
    name: str
    metrics: dict[str, float] = Field(default_factory=dict)
    rows: int | None = Field(default=None, ge=0)


class FairnessCheck(Metadata):
    check: str
    metric: str
    value: float
    threshold: float | None = None
    groups: list[str] = Field(default_factory=list)
    passed: bool


class DriftAnalysis(Metadata):
    feature: str
    method: str
    statistic: float
    threshold: float | None = None
    drifted: bool


class EvaluationMeta(Metadata):
    metrics: dict[str, float] = Field(default_factory=dict)
    data_slice: str | None = None
    slices: list[SliceResult] = Field(default_factory=list)
    fairness: list[FairnessCheck] = Field(default_factory=list)
    drift: list[DriftAnalysis] = Field(default_factory=list)
    passed: bool | None = None


class DeploymentMeta(Metadata):
    target: str | None = Field(default=None, description="platform: kserve, sagemaker ...")
    endpoint: Uri | None = None
    environment: str | None = Field(default=None, description="prod, staging ...")
    replicas: int | None = Field(default=None, ge=0)
    traffic_percent: float | None = Field(default=None, ge=0, le=100)


_ENTITY_STATES = ("active", "deprecated", "archived")

SPECS: dict[str, KindSpec] = {
    s.kind: s
    for s in (
        KindSpec("model", ModelMeta, version_policy="none"),
        KindSpec(
            "model_version", ModelVersionMeta, version_policy="assigned",
            states=("registered", "staging", "production", "deprecated", "archived"),
        ),
        KindSpec(
            "dataset", DatasetMeta, schema_version=2, upgraders={1: _dataset_v1_to_v2},
            version_policy="required", states=(*_ENTITY_STATES, "withdrawn"),
        ),
        KindSpec("feature", FeatureMeta, version_policy="required"),
        KindSpec("schema", SchemaMeta, version_policy="required"),
        KindSpec(
            "environment", EnvironmentMeta,
            digest_fields=("python", "packages", "image", "accelerator", "cuda", "platform"),
        ),
        KindSpec("code", CodeMeta, digest_fields=("repository", "commit", "path")),
        KindSpec("run", RunMeta, version_policy="none",
                 states=("active", "archived")),
        KindSpec("evaluation", EvaluationMeta, version_policy="none",
                 states=("active", "archived")),
        KindSpec(
            "deployment", DeploymentMeta, version_policy="none",
            states=("pending", "active", "retired", "failed"),
        ),
    )
}

assert set(SPECS) == {
    "model", "model_version", "dataset", "feature", "schema",
    "environment", "code", "run", "evaluation", "deployment",
}
