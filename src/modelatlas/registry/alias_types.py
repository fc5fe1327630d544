"""Wire types of model aliases and of requested lineage changes to production versions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LineageChangeStatus = Literal["pending", "applied", "rejected"]
LineageChangeOp = Literal["add", "remove"]


class AliasSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str | int = Field(
        description="the version to point at: its number (7) or its ref "
                    "(model_version:fraud/churn@7), a version of this model")


class Alias(BaseModel):
    model: str = Field(description="the model's ref, e.g. model:fraud/churn")
    alias: str
    version: str = Field(description="the version's ref, e.g. model_version:fraud/churn@7")
    set_by: str
    set_at: str


class LineageDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=2000, description="why, for the record")


class LineageChange(BaseModel):
    """A requested addition or removal of a lineage edge that touches a model version in
    production: applied when a second maintainer of the version's namespace approves."""

    id: int
    ref: str = Field(description="the production version whose lineage would change")
    op: LineageChangeOp
    source: str
    relation: str
    target: str
    properties: dict[str, Any] = Field(default_factory=dict)
    status: LineageChangeStatus
    requested_by: str
    requested_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    comment: str = ""
