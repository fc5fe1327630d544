"""The values the service layer takes and returns; also the JSON shapes on the wire."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from modelatlas.registry.deps_types import RequirementsIn

T = TypeVar("T")

MAX_TAGS = 100
Tag = str


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Asset(BaseModel):
    """An asset as stored, its metadata upgraded to the kind's current schema."""

    ref: str
    kind: str
    namespace: str
    name: str
    version: str | None = None
    description: str = ""
    owners: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)
    state: str
    digests: dict[str, str] = Field(default_factory=dict)
    schema_version: int
    revision: int
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'


class Relation(BaseModel):
    source: str
    relation: str
    target: str
    properties: dict[str, Any] = Field(default_factory=dict)
    created_at: str
    created_by: str


class Event(BaseModel):
    seq: int
    time: str
    actor: str
    action: str
    ref: str
    payload: dict[str, Any]
    payload_sha256: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class AssetCreate(_In):
    """A new asset. Model versions are not created here: register them (numbers are
    assigned by the registry)."""

    ref: str = Field(description="kind:namespace/name@version", max_length=500)
    description: str = Field(default="", max_length=100_000)
    owners: list[str] = Field(default_factory=list, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    metadata: dict[str, Any] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)
    state: str | None = None
    digests: dict[str, str] = Field(default_factory=dict)


class AssetUpdate(_In):
    """A partial update: fields left out stay; ``metadata`` and ``custom`` are JSON merge
    patches (RFC 7396: a key set to null is removed)."""

    description: str | None = Field(default=None, max_length=100_000)
    owners: list[str] | None = Field(default=None, max_length=50)
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    metadata: dict[str, Any] | None = None
    custom: dict[str, Any] | None = None
    state: str | None = None
    digests: dict[str, str] | None = None


class InlineAsset(_In):
    """A referenced asset: linked if it exists, created from this description if not."""

    ref: str = Field(max_length=500)
    description: str = ""
    owners: list[str] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    metadata: dict[str, Any] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)

    def as_create(self) -> AssetCreate:
        return AssetCreate(**self.model_dump())


AssetInput = str | InlineAsset


class RunSpec(_In):
    """The run that produced a model version. ``name`` defaults to one derived from the
    model and its new version number."""

    name: str | None = None
    description: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)


class ModelSpec(_In):
    """How to create the model if it does not exist yet."""

    description: str = ""
    owners: list[str] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    metadata: dict[str, Any] = Field(default_factory=dict)


class VersionRegistration(_In):
    """Everything a training job knows, in one request."""

    description: str = ""
    owners: list[str] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    metadata: dict[str, Any] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)
    state: str | None = None
    model: ModelSpec | None = Field(default=None, description="creates the model if missing")
    run: RunSpec | None = None
    datasets: list[AssetInput] = Field(default_factory=list, max_length=1000)
    features: list[AssetInput] = Field(default_factory=list, max_length=1000)
    code: AssetInput | None = None
    environment: AssetInput | None = None
    requires: list[AssetInput] = Field(default_factory=list, max_length=1000)
    derived_from: list[str] = Field(default_factory=list, max_length=100)
    requirements: RequirementsIn | None = Field(
        default=None, description="what the version needs to run (docs/deps.md); asset "
                                  "requirements must exist and be satisfiable",
    )
    allow_withdrawn: bool = Field(default=False, description="record a version trained on a "
                                  "withdrawn dataset version anyway (else 422)")
    manifest: dict[str, Any] | None = Field(
        default=None, description="the artifact's manifest, a model-signing v1.0 in-toto "
        "Statement (client.artifacts.manifest(path)); its root digest becomes digests.sha256",
    )


class Registration(BaseModel):
    """What one registration wrote."""

    model_version: Asset
    run: Asset | None = None
    created: list[str] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)


class RelationCreate(_In):
    source: str = Field(max_length=500)
    relation: str = Field(max_length=64)
    target: str = Field(max_length=500)
    properties: dict[str, Any] = Field(default_factory=dict)


class NamespaceSchema(BaseModel):
    namespace: str
    kind: str
    json_schema: dict[str, Any]
    updated_at: str
    updated_by: str


class FacetValue(BaseModel):
    value: str
    count: int


class SearchResult(BaseModel):
    """One page of hits in the requested order, the facet counts over the *whole* result
    set (not just this page), and the cursor of the next page."""

    query: str
    items: list[Asset]
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    next_cursor: str | None = None
    unknown_tags: list[str] = Field(
        default_factory=list, description="tags in the query the vocabulary does not know"
    )
