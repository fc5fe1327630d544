"""Wire types of recording a run on its own (``POST /runs``): a run that produced no model
version, such as a failed or aborted training run, with links to what it used."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelatlas.registry.types import MAX_TAGS, Asset, AssetInput, Relation, Tag


class RunRecord(BaseModel):
    """A run and its inputs, recorded in one transaction. Each input is a ref (it must
    exist) or an inline description (created when missing), as in a version registration.
    The run's outcome is ``metadata.status`` (``failed``, ``aborted`` ...: the ``run``
    schema); ``state`` is its lifecycle state (``active`` or ``archived``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    ref: str = Field(description="run:namespace/name", max_length=500)
    description: str = Field(default="", max_length=100_000)
    owners: list[str] = Field(default_factory=list, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    metadata: dict[str, Any] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)
    state: str | None = None
    datasets: list[AssetInput] = Field(default_factory=list, max_length=1000)
    features: list[AssetInput] = Field(default_factory=list, max_length=1000)
    code: AssetInput | None = None
    environment: AssetInput | None = None
    allow_withdrawn: bool = Field(default=False, description="record a run that used a "
                                  "withdrawn dataset version anyway (else 422)")


class RunRecorded(BaseModel):
    """What recording a run wrote: the run, the inputs created inline, and its edges."""

    run: Asset
    created: list[str] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
