"""Lifecycle and approvals: ``/models/{namespace}/{name}/versions/{version}/stage``,
``.../approvals``, ``.../comments``, ``.../reviews``, ``.../promotion``,
``/namespaces/{namespace}/promotion-policy`` and the approvals inbox ``/approvals``, thin
over the service layer (which checks ``stage.change``, ``approval.give``,
``review.comment``, ``policy.*`` and separation of duties itself)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from modelatlas.api._deps import PrincipalDep, RegistryDep, located, page_limit
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
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
    ReviewKind,
    StageChange,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["lifecycle"], responses=PROBLEM_RESPONSES)

_VERSION = "/models/{namespace}/{name}/versions/{version}"
_POLICY = "/namespaces/{namespace}/promotion-policy"
_WHERE = ("namespace", "name", "version")


@router.post(_VERSION + "/stage", response_model=Asset,
             summary="Move a version to another stage (production answers to the policy: "
                     "409 lists what is missing)")
def set_stage(namespace: str, name: str, version: str, body: StageChange,
              registry: RegistryDep, principal: PrincipalDep) -> Asset:
    with located(path=_WHERE):
        return registry.set_stage(namespace, name, version, body, principal=principal)


@router.post(_VERSION + "/approvals", response_model=ApprovalResult,
             status_code=status.HTTP_201_CREATED,
             summary="Approve or reject a version (not by its authors)")
def review_version(namespace: str, name: str, version: str, body: ApprovalIn,
                   registry: RegistryDep, principal: PrincipalDep) -> ApprovalResult:
    with located(path=_WHERE):
        return registry.review_version(namespace, name, version, body, principal=principal)


@router.post(_VERSION + "/comments", response_model=Review,
             status_code=status.HTTP_201_CREATED, summary="Comment on a version")
def comment_version(namespace: str, name: str, version: str, body: CommentIn,
                    registry: RegistryDep, principal: PrincipalDep) -> Review:
    with located(path=_WHERE):
        return registry.comment_version(namespace, name, version, body, principal=principal)


@router.get(_VERSION + "/reviews", response_model=Page[Review],
            summary="A version's approvals, rejections, comments, release notes and requests")
def version_reviews(namespace: str, name: str, version: str, registry: RegistryDep,
                    principal: PrincipalDep, limit: Annotated[int, Depends(page_limit(50))],
                    kind: ReviewKind | None = None, cursor: str | None = None) -> Page[Review]:
    with located(path=_WHERE, query=("kind", "cursor")):
        return registry.version_reviews(namespace, name, version, kind=kind, cursor=cursor,
                                        limit=limit, principal=principal)


@router.get(_VERSION + "/promotion", response_model=PromotionStatus,
            summary="What promoting the version to production needs, met and missing")
def promotion_status(namespace: str, name: str, version: str, registry: RegistryDep,
                     principal: PrincipalDep) -> PromotionStatus:
    with located(path=_WHERE):
        return registry.promotion_status(namespace, name, version, principal=principal)


@router.get(_POLICY, response_model=PromotionPolicyOut,
            summary="What promotion to production needs in the namespace")
def get_promotion_policy(namespace: str, registry: RegistryDep,
                         principal: PrincipalDep) -> PromotionPolicyOut:
    with located(path=("namespace",)):
        return registry.promotion_policy(namespace, principal=principal)


@router.put(_POLICY, response_model=PromotionPolicyOut,
            summary="Replace the namespace's promotion policy")
def set_promotion_policy(namespace: str, body: PromotionPolicyIn, registry: RegistryDep,
                         principal: PrincipalDep) -> PromotionPolicyOut:
    with located(path=("namespace",)):
        return registry.set_promotion_policy(namespace, body, principal=principal)


@router.get("/approvals", response_model=Page[ApprovalRequest],
            summary="The caller's approvals inbox: open promotion requests they may review, "
                    "newest first")
def approval_inbox(registry: RegistryDep, principal: PrincipalDep,
                   limit: Annotated[int, Depends(page_limit(50))],
                   namespace: str | None = None,
                   cursor: str | None = None) -> Page[ApprovalRequest]:
    with located(query=("namespace", "cursor")):
        return registry.approval_inbox(namespace=namespace, cursor=cursor, limit=limit,
                                       principal=principal)
