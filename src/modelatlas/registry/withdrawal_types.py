"""The wire shapes of withdrawing a dataset version (``/datasets/{ref}/withdraw``,
``/datasets/{ref}/withdrawal``): what the service takes and returns, also the JSON on the
wire."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modelatlas.registry.lineage_types import MAX_DEPTH, KindCount

Category = Literal["corrupt", "legal", "other"]

# The kinds a withdrawal marks for revalidation: what was built from or judged on the
# withdrawn data and is still in use. Runs are counted but not marked: a run is history,
# nothing to revalidate.
MARKED_KINDS = ("dataset", "feature", "model_version", "evaluation", "deployment")


class WithdrawalRequest(BaseModel):
    """Why a dataset version is withdrawn, and how far downstream to mark (hops)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    category: Category = "other"
    depth: int = Field(default=10, ge=1, le=MAX_DEPTH)


class WithdrawnAsset(BaseModel):
    """An asset the withdrawal marked; ``event_seq`` is its ``revalidation.needed`` event."""

    ref: str
    kind: str
    state: str
    event_seq: int


class Withdrawal(BaseModel):
    """A withdrawn dataset version: who withdrew it, when and why; ``affected`` counts
    everything downstream within ``depth`` hops at the time, per kind, ``marked`` what was
    marked for revalidation, and ``items`` is one page of the marked assets (nearest
    first; ``next_cursor`` for the next). ``already_withdrawn`` is true when this call
    found the version withdrawn and changed nothing."""

    ref: str
    reason: str
    category: Category
    depth: int
    withdrawn_at: str
    withdrawn_by: str
    event_seq: int
    already_withdrawn: bool = False
    affected: list[KindCount] = Field(default_factory=list)
    marked: list[KindCount] = Field(default_factory=list)
    items: list[WithdrawnAsset] = Field(default_factory=list)
    next_cursor: str | None = None
