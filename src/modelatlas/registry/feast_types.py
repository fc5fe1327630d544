"""What a Feast import takes and answers (``POST /api/v1/import/feast``,
``modelatlas import feast --json``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["created", "new_version"]


class FeastImport(BaseModel):
    """The output of ``feast registry-dump`` (parsed JSON) and where its assets go."""

    model_config = ConfigDict(extra="forbid")

    dump: dict[str, Any] = Field(description="what `feast registry-dump` printed")
    namespace: str = Field(description="the namespace the features, datasets and schemas "
                           "go to")


class FeastChange(BaseModel):
    """One asset the import wrote: a first version, or a new one for a changed definition."""

    ref: str
    outcome: Outcome
    what: str = Field(description="feature, dataset or schema")
    detail: str = Field(default="", description="for a new version: what changed")


class FeastImported(BaseModel):
    project: str = Field(description="the Feast project the dump is of")
    namespace: str
    feature_views: int = Field(description="feature views read from the dump")
    created: int = Field(description="first versions written")
    new_versions: int = Field(description="new versions of changed definitions")
    unchanged: int = Field(description="views, sources and schemas already recorded as "
                           "they are")
    changes: list[FeastChange] = Field(default_factory=list)
    revalidation: list[str] = Field(
        default_factory=list, description="deployed model versions the new versions marked "
        "for revalidation (those the caller may read), as 'model version <- cause'")
    notes: list[str] = Field(default_factory=list, description="what was read but not "
                             "written, and why")
