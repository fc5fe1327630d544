"""The service layer's lifecycle operations, mixed into :class:`Registry`: moving a model
version through stages, the namespace's promotion policy, and reviews (approvals,
rejections, comments, release notes, promotion requests).

Promotion to production answers to the namespace's policy (rules in
:mod:`modelatlas.governance.lifecycle`). When it is not met, the refusal (409) lists each
unmet condition, and a ``request`` review with an ``approval.requested`` event is committed
first (once per artifact digest while it is open) so approvers hear of it; the approval
that completes an open request applies the promotion in its own transaction.

The PATCH of an asset does not move a version between stages (see :func:`check_stage_patch`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from modelatlas.errors import Conflict, FieldError, InvalidInput, ModelAtlasError
from modelatlas.events import Action
from modelatlas.governance import lifecycle as lc
from modelatlas.governance.policy import AccessDenied, Decision, Target
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref, check_namespace
from modelatlas.registry import _inbox
from modelatlas.registry._guards import hidden_as_missing, missing, require_readable
from modelatlas.registry._rows import check_limit, decode_cursor, encode_cursor
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import snapshot_of
from modelatlas.registry._visibility import readable_in
from modelatlas.registry.lifecycle_types import (
    ApprovalIn,
    ApprovalRequest,
    ApprovalResult,
    CommentIn,
    ConditionOut,
    PromotionPolicyIn,
    PromotionPolicyOut,
    PromotionStatus,
    Review,
    StageChange,
)
from modelatlas.registry.types import Asset, Page
from modelatlas.store.tables import (
    assets,
    attestations,
    promotion_policies,
    relations,
    reviews,
    signing_keys,
)

if TYPE_CHECKING:
    from modelatlas.registry._tx import WriteTx
    from modelatlas.registry.deps_types import CheckResult, EnvironmentIn

_STAGE_KINDS = frozenset(lc.STAGES)
_REGISTRY_SIGNER = "registry"  # the registry's own provenance, not a team's attestation
_MAX_EVIDENCE = 200


def check_stage_patch(kind: str, before: str, after: str, path: str = "/state") -> None:
    """A model version changes stage only through ``set_stage`` (which checks the
    transition and the promotion policy, and records why); a PATCH restating the stage
    changes nothing and passes. Deprecation is its own operation's business."""
    if kind != "model_version" or before == after:
        return
    if after in _STAGE_KINDS or before == lc.ARCHIVED:
        raise InvalidInput.at(path, "change a version's stage with POST /models/{namespace}/"
                                    "{name}/versions/{version}/stage (modelatlas lifecycle "
                                    "stage)")


def _version_ref(namespace: str, name: str, version: str | int) -> Ref:
    return Ref.of("model_version", namespace, name, version)


def _parse(model: type[Any], body: Any) -> Any:
    if isinstance(body, model):
        return body
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None


class LifecycleService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def check(self, ref: str | Ref, target: str | Ref | None = None, *,
                  environment: EnvironmentIn | None = None,
                  principal: Principal | None = None) -> CheckResult: ...

    # policy ------------------------------------------------------------------------------
    def promotion_policy(self, namespace: str, *,
                         principal: Principal | None = None) -> PromotionPolicyOut:
        """What promotion to production needs in ``namespace`` (``policy.read``)."""
        check_namespace(namespace)
        self.authorize(principal, "policy.read", namespace, ref=f"namespace:{namespace}")
        with self.db.read() as conn:
            return _policy_out(namespace, _policy_row(conn, namespace))

    def set_promotion_policy(self, namespace: str, body: PromotionPolicyIn | Mapping[str, Any],
                             *, actor: str | None = None,
                             principal: Principal | None = None) -> PromotionPolicyOut:
        """Replace the namespace's promotion policy (``policy.manage``, admin)."""
        check_namespace(namespace)
        spec: PromotionPolicyIn = _parse(PromotionPolicyIn, body)
        target = _check_deps_target(spec)
        self.authorize(principal, "policy.manage", namespace, ref=f"namespace:{namespace}")
        with self._write(self.acting(principal, actor)) as tx:
            values = {**spec.model_dump(), "deps_target": target,
                      "updated_at": tx.now, "updated_by": tx.actor}
            where = promotion_policies.c.namespace == namespace
            if tx.conn.execute(promotion_policies.update().where(where)
                               .values(values)).rowcount == 0:
                tx.conn.execute(promotion_policies.insert().values(namespace=namespace,
                                                                   **values))
            tx.emit(Action.PROMOTION_POLICY_CHANGED, f"namespace:{namespace}",
                    {**spec.model_dump(), "deps_target": target}, None)
            return _policy_out(namespace, _policy_row(tx.conn, namespace))

    def _policy(self, namespace: str) -> lc.PromotionPolicy:
        with self.db.read() as conn:
            return _policy_of(_policy_row(conn, namespace))

    def check_initial_stage(self, namespace: str, state: str | None, *, ref: str,
                            principal: Principal | None = None) -> None:
        """A version registered (or created) past ``registered`` changed stage: it needs
        ``stage.change``, and ``production`` only where the policy demands nothing (a new
        version has no approvals or evidence yet: register it, then promote it)."""
        stage = lc.initial_stage(state)
        if stage is None:
            return
        self.authorize(principal, "stage.change", namespace, ref=ref, kind="model_version")
        if stage == lc.PRODUCTION and self._policy(namespace).demands_anything:
            raise Conflict(f"{namespace}'s promotion policy governs production: register "
                           "the version, then promote it",
                           errors=[FieldError("/state", "promote with POST .../stage")])

    # stages ------------------------------------------------------------------------------
    def set_stage(self, namespace: str, name: str, version: str | int,
                  body: StageChange | Mapping[str, Any], *, actor: str | None = None,
                  principal: Principal | None = None) -> Asset:
        """Move a version to another stage (``stage.change``, maintainer). To production
        only when the namespace's promotion policy is met; otherwise 409 listing what is
        missing, after recording a promotion request (``approval.requested``)."""
        ref = _version_ref(namespace, name, version)
        spec: StageChange = _parse(StageChange, body)
        stage = lc.parse_stage(spec.stage)
        require_readable(self, principal, ref)
        self.authorize(principal, "stage.change", namespace, ref=str(ref), kind=ref.kind)
        policy = self._policy(namespace)
        deps = self._deps_evidence(ref, policy) if stage == lc.PRODUCTION else None
        person, token_id = self._person(principal, actor)
        with self._write(self.acting(principal, actor)) as tx:
            row = _locked(tx, ref)
            lc.check_transition(row.state, stage, str(ref))
            refused = (_unmet(_status(tx.conn, ref, row, policy, deps))
                       if stage == lc.PRODUCTION else [])
            if refused:
                # committed with the refusal: the approvers are asked either way
                _request(tx, ref, row, person, token_id, spec.comment or "", refused)
            else:
                for kind, text in ((lc.RELEASE_NOTE, spec.release_notes),
                                   (lc.COMMENT, spec.comment)):
                    if text:
                        _insert_review(tx, row, kind, person, token_id, text, stage)
                approvers = (lc.counted_approvers(_reviews_of(tx.conn, row.id),
                                                  _digest(row), _excluded(tx.conn, row))
                             if stage == lc.PRODUCTION else [])
                _apply_stage(tx, ref, row, stage, approvers, spec.release_notes)
                changed = tx.load(row.id)
        if refused:
            raise Conflict(f"{ref} does not meet {namespace}'s promotion policy: "
                           + "; ".join(f"{e.path}: {e.message}" for e in refused),
                           errors=refused)
        return changed

    def _person(self, principal: Principal | None, actor: str | None) -> tuple[str, str | None]:
        """Who reviews: the person behind the credential (two tokens, one person), or the
        embedded user under the name its events carry."""
        if principal is not None:
            return principal.person, principal.token_id
        return actor or self.settings.actor, None

    def _deps_evidence(self, ref: Ref, policy: lc.PromotionPolicy) -> list[str] | None:
        """The dependency check's violations against the policy's target (None: the policy
        does not ask). Run before the write transaction, as the registry (the policy chose
        the target, not the caller); a target that cannot be checked is a violation."""
        if not policy.require_clean_deps or policy.deps_target is None:
            return None
        try:
            result = self.check(ref, policy.deps_target)
        except ModelAtlasError as exc:
            return [f"{policy.deps_target} cannot be checked: {exc.detail}"]
        return [f"{v.subject}: {v.message}" for v in result.violations]

    # reviews -----------------------------------------------------------------------------
    def review_version(self, namespace: str, name: str, version: str | int,
                       body: ApprovalIn | Mapping[str, Any], *, actor: str | None = None,
                       principal: Principal | None = None) -> ApprovalResult:
        """Approve or reject (``approval.give``, maintainer). Refused (403, recorded) for
        the version's author and its run's, however they hold the role; a second approval
        by the same person (another token) is recorded but counts once. An approval that
        completes an open promotion request promotes the version in this transaction."""
        ref = _version_ref(namespace, name, version)
        spec: ApprovalIn = _parse(ApprovalIn, body)
        require_readable(self, principal, ref)
        self.authorize(principal, "approval.give", namespace, ref=str(ref), kind=ref.kind)
        policy = self._policy(namespace)
        approve = spec.decision == "approve"
        deps = self._deps_evidence(ref, policy) if approve else None
        person, token_id = self._person(principal, actor)
        caller = principal or Principal.local(person)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            row = _locked(tx, ref)
            excluded = _excluded(tx.conn, row)
            if person in excluded:
                raise _separation_denied(caller, person, ref)
            before = lc.decisions(_reviews_of(tx.conn, row.id), _digest(row))
            counted = not (approve and before.get(person) == lc.APPROVAL)
            kind = lc.APPROVAL if approve else lc.REJECTION
            review = _insert_review(tx, row, kind, person, token_id, spec.comment,
                                    lc.PRODUCTION)
            tx.emit(Action.APPROVAL_GIVEN if approve else Action.APPROVAL_REJECTED, str(ref),
                    {"ref": str(ref), "person": person, "token_id": token_id,
                     "manifest_sha256": _digest(row), "counted": counted,
                     "comment": spec.comment}, row.id)
            promoted = approve and self._complete_request(tx, ref, row, policy, deps)
            stage = lc.PRODUCTION if promoted else row.state
            return ApprovalResult(review=_review_out(ref, review), counted=counted,
                                  promoted=promoted, stage=stage)

    def _complete_request(self, tx: WriteTx, ref: Ref, row: Any, policy: lc.PromotionPolicy,
                          deps: list[str] | None) -> bool:
        """Promote when an open request for these bytes now meets the policy."""
        if row.state in (lc.PRODUCTION, lc.ARCHIVED) or not _open_requests(tx.conn, row):
            return False
        status = _status(tx.conn, ref, row, policy, deps)
        if not status.ready:
            return False
        _apply_stage(tx, ref, row, lc.PRODUCTION, status.approvers, None)
        return True

    def comment_version(self, namespace: str, name: str, version: str | int,
                        body: CommentIn | Mapping[str, Any], *, actor: str | None = None,
                        principal: Principal | None = None) -> Review:
        """Comment on a version (``review.comment``, contributor)."""
        ref = _version_ref(namespace, name, version)
        spec: CommentIn = _parse(CommentIn, body)
        require_readable(self, principal, ref)
        self.authorize(principal, "review.comment", namespace, ref=str(ref), kind=ref.kind)
        person, token_id = self._person(principal, actor)
        with self._write(self.acting(principal, actor)) as tx:
            row = _locked(tx, ref)
            review = _insert_review(tx, row, lc.COMMENT, person, token_id, spec.body, None)
            tx.emit(Action.REVIEW_COMMENTED, str(ref),
                    {"ref": str(ref), "person": person, "review_id": review["id"],
                     "body": spec.body}, row.id)
            return _review_out(ref, review)

    def version_reviews(self, namespace: str, name: str, version: str | int, *,
                        kind: str | None = None, cursor: str | None = None, limit: int = 50,
                        principal: Principal | None = None) -> Page[Review]:
        """The version's reviews, oldest first (``asset.read``)."""
        ref = _version_ref(namespace, name, version)
        if kind is not None and kind not in lc.REVIEW_KINDS:
            raise InvalidInput.at("/kind", f"one of {', '.join(lc.REVIEW_KINDS)}")
        check_limit(limit, self.settings.page_limit_max)
        after = decode_cursor(cursor)
        require_readable(self, principal, ref)
        with self.db.read() as conn:
            asset_id = conn.execute(sa.select(assets.c.id).where(*_key(ref))).scalar()
            if asset_id is None:  # the local user's require_readable does not look
                raise missing(ref, "/ref")
            query = sa.select(reviews).where(reviews.c.asset_id == asset_id)
            if kind is not None:
                query = query.where(reviews.c.kind == kind)
            if after is not None:
                query = query.where(reviews.c.id > after)
            rows = conn.execute(query.order_by(reviews.c.id).limit(limit + 1)).mappings().all()
        more = len(rows) > limit
        items = [_review_out(ref, dict(r)) for r in rows[:limit]]
        return Page(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)

    def promotion_status(self, namespace: str, name: str, version: str | int, *,
                         principal: Principal | None = None) -> PromotionStatus:
        """What promoting the version to production needs now (``asset.read``)."""
        ref = _version_ref(namespace, name, version)
        require_readable(self, principal, ref)
        policy = self._policy(namespace)
        deps = self._deps_evidence(ref, policy)
        with self.db.read() as conn:
            row = conn.execute(sa.select(assets).where(*_key(ref))).first()
            if row is None:
                raise missing(ref, "/ref")
            return _status(conn, ref, row, policy, deps)


    def approval_inbox(self, *, namespace: str | None = None, cursor: str | None = None,
                       limit: int = 50,
                       principal: Principal | None = None) -> Page[ApprovalRequest]:
        """The open promotion requests the caller may review, newest first: versions they
        may read in namespaces where they hold the role approving needs. Requests for a
        version the caller authored are listed with ``authored_by_you`` (they may not
        approve it). A read: any credential scope lists what its person may review."""
        if namespace is not None:
            check_namespace(namespace)
        check_limit(limit, self.settings.page_limit_max)
        before = decode_cursor(cursor)
        person = self._person(principal, None)[0]
        with self.db.read() as conn:
            readable = readable_in(conn, principal)
            rows = _inbox.open_requests(conn, readable, _inbox.reviewable(readable),
                                        namespace=namespace, before=before, limit=limit)
            items = [_request_out(row, _excluded(conn, _version_of(row)), person)
                     for row in rows[:limit]]
        more = len(rows) > limit
        return Page(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


# reads -------------------------------------------------------------------------------------
def _key(ref: Ref) -> tuple[Any, ...]:
    return (assets.c.kind == ref.kind, assets.c.namespace == ref.namespace,
            assets.c.name == ref.name, assets.c.version == (ref.version or ""))


def _locked(tx: WriteTx, ref: Ref) -> Any:
    """The version's row, locked until the transaction ends (PostgreSQL: a concurrent
    approval or stage change waits; SQLite has one writer anyway)."""
    return tx.conn.execute(sa.select(assets).where(assets.c.id == tx.require_id(ref, "/ref"))
                           .with_for_update()).one()


def _digest(row: Any) -> str | None:
    digest = (row.digests or {}).get("sha256")
    return str(digest) if digest else None


def _policy_row(conn: Connection, namespace: str) -> Any:
    return conn.execute(sa.select(promotion_policies)
                        .where(promotion_policies.c.namespace == namespace)).first()


def _policy_of(row: Any) -> lc.PromotionPolicy:
    if row is None:
        return lc.PromotionPolicy()
    return lc.PromotionPolicy(
        required_approvals=row.required_approvals,
        require_passing_evaluation=row.require_passing_evaluation,
        require_verified_attestation=row.require_verified_attestation,
        require_clean_deps=row.require_clean_deps, deps_target=row.deps_target)


def _policy_out(namespace: str, row: Any) -> PromotionPolicyOut:
    if row is None:
        return PromotionPolicyOut(namespace=namespace)
    return PromotionPolicyOut(
        namespace=namespace, required_approvals=row.required_approvals,
        require_passing_evaluation=row.require_passing_evaluation,
        require_verified_attestation=row.require_verified_attestation,
        require_clean_deps=row.require_clean_deps, deps_target=row.deps_target,
        updated_at=row.updated_at, updated_by=row.updated_by)


def _check_deps_target(spec: PromotionPolicyIn) -> str | None:
    if spec.deps_target is None:
        if spec.require_clean_deps:
            raise InvalidInput.at("/deps_target", "name the environment the dependency "
                                                  "check runs against")
        return None
    parsed = Ref.parse(spec.deps_target, path="/deps_target")
    if parsed.kind not in ("environment", "deployment"):
        raise InvalidInput.at("/deps_target", "an environment or deployment ref")
    return str(parsed)


def _reviews_of(conn: Connection, asset_id: int) -> list[lc.Review]:
    rows = conn.execute(sa.select(reviews.c.id, reviews.c.kind, reviews.c.person,
                                  reviews.c.manifest_sha256)
                        .where(reviews.c.asset_id == asset_id,
                               reviews.c.kind.in_((lc.APPROVAL, lc.REJECTION)))).all()
    return [lc.Review(r.id, r.kind, r.person, r.manifest_sha256) for r in rows]


def _excluded(conn: Connection, row: Any) -> frozenset[str]:
    """The version's author and the authors of the runs that produced it (who created the
    run, and the ``user`` its metadata names)."""
    run = assets.alias("run")
    found = conn.execute(
        sa.select(run.c.created_by, run.c.meta)
        .select_from(relations.join(run, run.c.id == relations.c.source_id))
        .where(relations.c.target_id == row.id, relations.c.relation == "produced",
               run.c.kind == "run").limit(_MAX_EVIDENCE)).all()
    named = [r.created_by for r in found] + [(r.meta or {}).get("user") for r in found]
    return lc.authors(row.created_by, named)


def _passing_evaluation(conn: Connection, row: Any) -> bool:
    evaluation = assets.alias("evaluation")
    metas = conn.execute(
        sa.select(evaluation.c.meta)
        .select_from(relations.join(evaluation, evaluation.c.id == relations.c.source_id))
        .where(relations.c.target_id == row.id, relations.c.relation == "evaluated",
               evaluation.c.kind == "evaluation", evaluation.c.state == "active")
        .limit(_MAX_EVIDENCE)).scalars()
    return any((meta or {}).get("passed") is True for meta in metas)


def _verified_attestation(conn: Connection, row: Any, namespace: str) -> bool:
    """An attestation about the current artifact digest, signed with a namespace key that
    is not revoked. The registry's own provenance (signed at registration) does not count:
    it is the registry vouching for itself, not the team's CI."""
    digest = _digest(row)
    if digest is None:
        return False
    found = conn.execute(
        sa.select(attestations.c.key_ids)
        .where(attestations.c.asset_id == row.id, attestations.c.subject_algorithm == "sha256",
               attestations.c.subject_digest == digest,
               attestations.c.signer != _REGISTRY_SIGNER).limit(_MAX_EVIDENCE)).scalars().all()
    if not found:
        return False
    revoked = set(conn.execute(sa.select(signing_keys.c.key_id).where(
        signing_keys.c.namespace == namespace, signing_keys.c.revoked_at.is_not(None)))
        .scalars())
    return any(any(k not in revoked for k in keys) for keys in found)


def _open_requests(conn: Connection, row: Any) -> bool:
    where = [reviews.c.asset_id == row.id, reviews.c.kind == lc.REQUEST,
             reviews.c.closed_at.is_(None)]
    digest = _digest(row)
    where.append(reviews.c.manifest_sha256.is_(None) if digest is None
                 else reviews.c.manifest_sha256 == digest)
    return conn.execute(sa.select(reviews.c.id).where(*where).limit(1)).first() is not None


def _status(conn: Connection, ref: Ref, row: Any, policy: lc.PromotionPolicy,
            deps: list[str] | None) -> PromotionStatus:
    digest, excluded = _digest(row), _excluded(conn, row)
    found = _reviews_of(conn, row.id)
    evidence = lc.Evidence(
        passing_evaluation=(_passing_evaluation(conn, row)
                            if policy.require_passing_evaluation else None),
        verified_attestation=(_verified_attestation(conn, row, ref.namespace)
                              if policy.require_verified_attestation else None),
        deps_violations=deps)
    conditions = (lc.approval_conditions(policy, found, digest, excluded)
                  + lc.evidence_conditions(policy, evidence))
    policy_out = PromotionPolicyOut(namespace=ref.namespace, **{
        f: getattr(policy, f) for f in ("required_approvals", "require_passing_evaluation",
                                        "require_verified_attestation", "require_clean_deps",
                                        "deps_target")})
    return PromotionStatus(
        ref=str(ref), stage=row.state, manifest_sha256=digest, policy=policy_out,
        ready=all(c.met for c in conditions),
        conditions=[ConditionOut(name=c.name, met=c.met, detail=c.detail) for c in conditions],
        approvers=lc.counted_approvers(found, digest, excluded), excluded=sorted(excluded),
        open_request=_open_requests(conn, row))


# writes ------------------------------------------------------------------------------------
def _insert_review(tx: WriteTx, row: Any, kind: str, person: str, token_id: str | None,
                   body: str, stage: str | None) -> dict[str, Any]:
    values = {"asset_id": row.id, "kind": kind, "person": person, "actor": tx.actor,
              "token_id": token_id, "body": body, "manifest_sha256": _digest(row),
              "stage": stage, "closed_at": None, "created_at": tx.now}
    new_id = tx.conn.execute(reviews.insert().values(**values)
                             .returning(reviews.c.id)).scalar_one()
    return {**values, "id": new_id}


def _request(tx: WriteTx, ref: Ref, row: Any, person: str, token_id: str | None, body: str,
             missing: list[FieldError]) -> None:
    """Ask the approvers (webhooks deliver ``approval.requested``), once per digest while
    the request is open."""
    if _open_requests(tx.conn, row):
        return
    review = _insert_review(tx, row, lc.REQUEST, person, token_id, body, lc.PRODUCTION)
    tx.emit(Action.APPROVAL_REQUESTED, str(ref),
            {"ref": str(ref), "person": person, "review_id": review["id"],
             "stage": lc.PRODUCTION, "manifest_sha256": _digest(row),
             "missing": [{"path": e.path, "message": e.message} for e in missing]}, row.id)


def _apply_stage(tx: WriteTx, ref: Ref, row: Any, stage: str, approvers: list[str],
                 release_notes: str | None) -> None:
    """Write the new stage, answer open requests, and record it: an ``asset.updated``
    snapshot (the asset's history is its snapshots) and ``version.stage_changed``."""
    values = {"state": stage, "revision": row.revision + 1, "updated_at": tx.now,
              "updated_by": tx.actor}
    tx.conn.execute(assets.update().where(assets.c.id == row.id).values(values))
    tx.conn.execute(reviews.update().where(reviews.c.asset_id == row.id,
                                           reviews.c.kind == lc.REQUEST,
                                           reviews.c.closed_at.is_(None))
                    .values(closed_at=tx.now))
    snapshot = snapshot_of(str(ref), {**row._asdict(), **values})
    snapshot["changed"] = ["state"]
    tx.emit(Action.ASSET_UPDATED, str(ref), snapshot, row.id)
    payload: dict[str, Any] = {"ref": str(ref), "from": row.state, "to": stage,
                               "manifest_sha256": _digest(row), "approvers": approvers}
    if release_notes:
        payload["release_notes"] = release_notes
    tx.emit(Action.STAGE_CHANGED, str(ref), payload, row.id)


def _unmet(status: PromotionStatus) -> list[FieldError]:
    return [FieldError(f"/{c.name}", c.detail) for c in status.conditions if not c.met]


def _separation_denied(caller: Principal, person: str, ref: Ref) -> AccessDenied:
    reason = (f"separation of duties: {person} is an author of {ref} (it, or the run "
              "that produced it) and may not review it, whatever role they hold")
    decision = Decision(False, "approval.give", ref.namespace, reason, None, None)
    return AccessDenied(caller, decision, Target(ref=str(ref), kind=ref.kind))


def _review_out(ref: Ref, row: Mapping[str, Any]) -> Review:
    is_request = row["kind"] == lc.REQUEST
    return Review(id=row["id"], ref=str(ref), kind=row["kind"], person=row["person"],
                  actor=row["actor"], token_id=row["token_id"], body=row["body"],
                  manifest_sha256=row["manifest_sha256"], stage=row["stage"],
                  open=(row["closed_at"] is None) if is_request else None,
                  created_at=row["created_at"])


def _version_of(row: Any) -> SimpleNamespace:
    """The fields of the version's row that :func:`_excluded` reads, from an inbox row
    (whose ``id`` is the request's)."""
    return SimpleNamespace(id=row.asset_id, created_by=row.created_by)


def _request_out(row: Any, authors: frozenset[str], person: str) -> ApprovalRequest:
    ref = _version_ref(row.namespace, row.name, row.version)
    return ApprovalRequest(
        id=row.id, ref=str(ref), namespace=row.namespace, name=row.name,
        version=row.version, stage=row.state, requested_stage=row.stage or lc.PRODUCTION,
        requested_by=row.person, requested_at=row.created_at, comment=row.body,
        manifest_sha256=row.manifest_sha256, authors=sorted(authors),
        authored_by_you=person in authors)
