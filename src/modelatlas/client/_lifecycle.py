"""``client.lifecycle``: stages, approvals, comments, reviews and promotion policies of
model versions (``/models/{namespace}/{name}/versions/{version}/...``)."""

from __future__ import annotations

from modelatlas.client._transport import _given, _Transport, _validated
from modelatlas.errors import InvalidInput
from modelatlas.refs import Ref
from modelatlas.registry import Asset, Page
from modelatlas.registry.lifecycle_types import (
    ApprovalIn,
    ApprovalRequest,
    ApprovalResult,
    CommentIn,
    PromotionPolicyIn,
    PromotionPolicyOut,
    PromotionStatus,
    Review,
    StageChange,
)


def _parts(ref: str) -> tuple[str, str, str]:
    """A ``model_version`` ref's namespace, name and version."""
    parsed = Ref.parse(ref)
    if parsed.kind != "model_version" or parsed.version is None:
        raise InvalidInput.at("/ref", "a model_version ref with a version")
    return parsed.namespace, parsed.name, parsed.version


class LifecycleAPI:
    """``client.lifecycle``: every method takes a ``model_version:ns/name@N`` ref."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def set_stage(self, ref: str, stage: str, *, release_notes: str | None = None,
                  comment: str | None = None) -> Asset:
        """Move to ``none``/``registered``, ``staging``, ``production`` or ``archived``;
        a promotion the policy does not allow yet raises Conflict listing what is missing
        (and asks the approvers)."""
        body = _validated(StageChange, _given(stage=stage, release_notes=release_notes,
                                              comment=comment))
        return self._t.set_stage(*_parts(ref), body)

    def approve(self, ref: str, *, comment: str = "") -> ApprovalResult:
        body = _validated(ApprovalIn, {"decision": "approve", "comment": comment})
        return self._t.review_version(*_parts(ref), body)

    def reject(self, ref: str, *, comment: str = "") -> ApprovalResult:
        body = _validated(ApprovalIn, {"decision": "reject", "comment": comment})
        return self._t.review_version(*_parts(ref), body)

    def comment(self, ref: str, body: str) -> Review:
        return self._t.comment_version(*_parts(ref), _validated(CommentIn, {"body": body}))

    def reviews(self, ref: str, *, kind: str | None = None, cursor: str | None = None,
                limit: int = 50) -> Page[Review]:
        query = _given(kind=kind, cursor=cursor, limit=limit)
        return self._t.version_reviews(*_parts(ref), query)

    def promotion(self, ref: str) -> PromotionStatus:
        return self._t.promotion_status(*_parts(ref))

    def inbox(self, *, namespace: str | None = None, cursor: str | None = None,
              limit: int = 50) -> Page[ApprovalRequest]:
        """Open promotion requests the caller may review, newest first."""
        return self._t.approval_inbox(_given(namespace=namespace, cursor=cursor, limit=limit))

    def policy(self, namespace: str) -> PromotionPolicyOut:
        return self._t.promotion_policy(namespace)

    def set_policy(self, namespace: str, *, required_approvals: int = 0,
                   require_passing_evaluation: bool = False,
                   require_verified_attestation: bool = False,
                   require_clean_deps: bool = False,
                   deps_target: str | None = None) -> PromotionPolicyOut:
        body = _validated(PromotionPolicyIn, _given(
            required_approvals=required_approvals,
            require_passing_evaluation=require_passing_evaluation,
            require_verified_attestation=require_verified_attestation,
            require_clean_deps=require_clean_deps, deps_target=deps_target))
        return self._t.set_promotion_policy(namespace, body)
