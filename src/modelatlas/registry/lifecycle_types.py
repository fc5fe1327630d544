"""Wire types of lifecycle stages, promotion policies and reviews (docs/governance.md,
"Lifecycle and approvals")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReviewKind = Literal["approval", "rejection", "comment", "release_note", "request"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class StageChange(_In):
    stage: str = Field(max_length=32, description="none (registered), staging, production "
                                                  "or archived")
    release_notes: str | None = Field(default=None, max_length=100_000,
                                      description="recorded as a release_note review")
    comment: str | None = Field(default=None, max_length=100_000,
                                description="recorded as a comment review")


class ApprovalIn(_In):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=100_000)


class CommentIn(_In):
    body: str = Field(min_length=1, max_length=100_000)


class PromotionPolicyIn(_In):
    required_approvals: int = Field(default=0, ge=0, le=10)
    require_passing_evaluation: bool = False
    require_verified_attestation: bool = False
    require_clean_deps: bool = False
    deps_target: str | None = Field(
        default=None, max_length=500,
        description="the environment (or deployment) ref a dependency check runs against; "
                    "required with require_clean_deps")


class PromotionPolicyOut(BaseModel):
    namespace: str
    required_approvals: int = 0
    require_passing_evaluation: bool = False
    require_verified_attestation: bool = False
    require_clean_deps: bool = False
    deps_target: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None


class Review(BaseModel):
    id: int
    ref: str
    kind: ReviewKind
    person: str
    actor: str
    token_id: str | None = None
    body: str = ""
    manifest_sha256: str | None = Field(
        default=None, description="the version's manifest root digest when it was written")
    stage: str | None = Field(default=None, description="the stage an approval or request "
                                                        "is for")
    open: bool | None = Field(default=None, description="a request no stage change has "
                                                        "answered yet")
    created_at: str


class ConditionOut(BaseModel):
    name: str = Field(description="approvals, rejections, evaluation, attestation, deps")
    met: bool
    detail: str


class PromotionStatus(BaseModel):
    """What promoting the version to production needs now, and what is missing."""

    ref: str
    stage: str
    manifest_sha256: str | None = None
    policy: PromotionPolicyOut
    ready: bool = Field(description="every condition is met")
    conditions: list[ConditionOut] = Field(default_factory=list)
    approvers: list[str] = Field(default_factory=list,
                                 description="the people whose approval counts")
    excluded: list[str] = Field(default_factory=list,
                                description="who may not approve: the version's and its "
                                            "run's authors")
    open_request: bool = False


class ApprovalResult(BaseModel):
    """The review recorded and, when it completed an open request, the new stage."""

    review: Review
    counted: bool = Field(description="false for a second approval by the same person")
    promoted: bool = False
    stage: str


class ApprovalRequest(BaseModel):
    """An open promotion request in the caller's approvals inbox."""

    id: int = Field(description="the request's review id")
    ref: str
    namespace: str
    name: str
    version: str
    stage: str = Field(description="the version's stage now")
    requested_stage: str = Field(description="the stage asked for (production)")
    requested_by: str = Field(description="the person who asked")
    requested_at: str
    comment: str = ""
    manifest_sha256: str | None = Field(default=None,
                                        description="the digest the request is about")
    authors: list[str] = Field(default_factory=list,
                               description="who may not approve: the version's and its "
                                           "run's authors")
    authored_by_you: bool = Field(default=False,
                                  description="the caller is an author: separation of "
                                              "duties keeps them from approving it")
