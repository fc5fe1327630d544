"""The wire shapes of impact analysis and revalidation marks (``/deps/impact``,
``/deps/revalidation``): what the service takes and returns, also the JSON on the wire."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelatlas.deps.schemas import CompatibilityMode

ChangeKind = Literal["package", "asset", "schema"]
Scope = Literal["environment", "registry"]


class ImpactChange(BaseModel):
    """One change to ask about. Exactly one shape:

    * a package upgrade in an environment: ``environment``, ``package``, ``to``
      (``scope="registry"`` asks about every model version, not only those running there);
    * a registered asset version: ``asset`` (a feature, dataset or schema with a version);
    * a proposed schema, not registered: ``schema`` (without version) and ``fields``.

    ``mode`` is the schema compatibility mode (default BACKWARD); ``depth`` bounds how far
    the change is followed through derived features and datasets; ``limit`` caps each list
    of the report (``truncated`` says when it cut one).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    environment: str | None = Field(default=None, max_length=500)
    package: str | None = Field(default=None, max_length=300)
    to: str | None = Field(default=None, max_length=100, description="the new version")
    scope: Scope = "environment"
    asset: str | None = Field(default=None, max_length=500)
    schema_ref: str | None = Field(default=None, alias="schema", max_length=500)
    fields: list[dict[str, Any]] | None = Field(default=None, max_length=2000)
    renames: dict[str, str] = Field(default_factory=dict, description="old field -> new")
    mode: CompatibilityMode = CompatibilityMode.BACKWARD
    depth: int = Field(default=3, ge=1, le=10)
    limit: int = Field(default=1000, ge=1, le=10_000, description="most assets per list")

    @field_validator("mode", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        """``full`` as well as ``FULL``, from the SDK, the API and the CLI alike."""
        return value.upper() if isinstance(value, str) else value


class Affected(BaseModel):
    """An asset the change affects and why (one line per reason). ``via`` is the asset
    through which the change reached it (None when it reached it directly); ``depth`` how
    many derived-from or consumer hops away from the change."""

    ref: str
    kind: str
    state: str
    reasons: list[str]
    via: str | None = None
    depth: int = 0


class ImpactReport(BaseModel):
    """What a change would break. ``summary`` restates the change (``numpy 1.26.4 -> 2.1.0
    in environment:platform/serving-py311``); for a schema change ``compatible`` and
    ``incompatibilities`` answer the compatibility mode, else they are None and empty."""

    kind: ChangeKind
    summary: str
    mode: CompatibilityMode | None = None
    compatible: bool | None = None
    incompatibilities: list[str] = Field(default_factory=list)
    model_versions: list[Affected] = Field(default_factory=list)
    deployments: list[Affected] = Field(default_factory=list)
    data: list[Affected] = Field(
        default_factory=list,
        description="features and datasets the change travels through (derived or conforming)",
    )
    truncated: bool = False
    hidden: int = Field(
        default=0,
        description="affected assets the caller may not read: counted here, not listed, "
                    "so the report does not claim less breaks than does",
    )


class RevalidationMark(BaseModel):
    """A deployed model version whose dependency ``cause`` changed since it was validated."""

    ref: str
    cause: str
    reason: str
    event_seq: int
    marked_at: str
