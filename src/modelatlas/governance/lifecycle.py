"""Lifecycle stages of a model version and what promoting one to production needs.

Pure rules, no I/O: the service layer reads the version, its reviews and the namespace's
promotion policy, and asks here whether a transition is allowed and which conditions of
the policy are unmet, so the same answer serves the stage change, an approval that
completes a request, and the promotion status a reader asks for.

Stages are the ``state`` of a ``model_version``: ``registered`` (the issue's "none"),
``staging``, ``production``, ``archived``. ``deprecated`` is a state too, but deprecation
owns it (its own operation); from here it can only be archived.

Separation of duties binds people, not credentials: the version's author and the author of
the run that produced it may not approve it, whichever role, group or token they hold, and
two tokens of one person are one approver.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from modelatlas.errors import Conflict, FieldError, InvalidInput

REGISTERED, STAGING, PRODUCTION, ARCHIVED = "registered", "staging", "production", "archived"
DEPRECATED = "deprecated"
STAGES = (REGISTERED, STAGING, PRODUCTION, ARCHIVED)
# what a caller may write for a stage: the issue calls "registered" "none"
_SYNONYMS = {"none": REGISTERED}

# (from, to) moves set_stage makes; any stage but archived may also be archived
TRANSITIONS = frozenset({
    (REGISTERED, STAGING), (STAGING, PRODUCTION), (REGISTERED, PRODUCTION),
    (PRODUCTION, STAGING),
})

APPROVAL, REJECTION, COMMENT, RELEASE_NOTE, REQUEST = (
    "approval", "rejection", "comment", "release_note", "request")
REVIEW_KINDS = (APPROVAL, REJECTION, COMMENT, RELEASE_NOTE, REQUEST)


def parse_stage(value: str, path: str = "/stage") -> str:
    stage = _SYNONYMS.get(value, value)
    if stage not in STAGES:
        raise InvalidInput.at(path, f"one of none, {', '.join(STAGES)}")
    return stage


def check_transition(before: str, after: str, ref: str) -> None:
    """Raise :class:`Conflict` (409, at ``/stage``) unless ``before -> after`` is a move."""
    if before == after:
        raise Conflict(f"{ref} is already in {after}",
                       errors=[FieldError("/stage", f"already {after}")])
    if before == ARCHIVED:
        raise Conflict(f"{ref} is archived: archiving is final",
                       errors=[FieldError("/stage", "archived is final")])
    if after == ARCHIVED or (before, after) in TRANSITIONS:
        return
    allowed = [*sorted(t for f, t in TRANSITIONS if f == before), ARCHIVED]
    raise Conflict(f"{ref} cannot move from {before} to {after}",
                   errors=[FieldError("/stage", f"from {before}: one of {', '.join(allowed)}")])


def initial_stage(state: str | None) -> str | None:
    """A new version may start past ``registered`` (bulk loads, demos, imports): that is a
    stage change (``stage.change``), and ``production`` answers to the promotion policy.
    Returns the stage that needs it (None: the version starts registered)."""
    return None if state in (None, REGISTERED) else state


@dataclass(frozen=True, slots=True)
class PromotionPolicy:
    """What promotion to production needs in one namespace (the defaults: nothing)."""

    required_approvals: int = 0
    require_passing_evaluation: bool = False
    require_verified_attestation: bool = False
    require_clean_deps: bool = False
    deps_target: str | None = None

    @property
    def demands_anything(self) -> bool:
        return bool(self.required_approvals or self.require_passing_evaluation
                    or self.require_verified_attestation or self.require_clean_deps)


@dataclass(frozen=True, slots=True)
class Review:
    """One stored review, as far as the rules care."""

    id: int
    kind: str
    person: str
    manifest_sha256: str | None


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the service read about the version for the policy's optional conditions
    (``None``: the policy does not ask, so it was not looked up)."""

    passing_evaluation: bool | None = None
    verified_attestation: bool | None = None
    deps_violations: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    met: bool
    detail: str


def authors(version_author: str, run_authors: Iterable[str | None]) -> frozenset[str]:
    """Who may not approve: the version's author and its run's (creator and ``user``)."""
    return frozenset({version_author, *(a for a in run_authors if a)})


def decisions(reviews: Iterable[Review], digest: str | None) -> dict[str, str]:
    """Each person's latest approval or rejection of the bytes ``digest`` names (a review
    of another digest is about other bytes and does not count). Later reviews by the same
    person, through any token, replace earlier ones: one person, one voice."""
    latest: dict[str, tuple[int, str]] = {}
    for review in reviews:
        if review.kind not in (APPROVAL, REJECTION) or review.manifest_sha256 != digest:
            continue
        if review.person not in latest or latest[review.person][0] < review.id:
            latest[review.person] = (review.id, review.kind)
    return {person: kind for person, (_, kind) in latest.items()}


def approval_conditions(policy: PromotionPolicy, reviews: Iterable[Review],
                        digest: str | None, excluded: frozenset[str]) -> list[Condition]:
    """The approvals condition and, when someone's latest word is a rejection, the
    rejections condition (a rejection blocks until its author approves again)."""
    votes = decisions(reviews, digest)
    approvers = sorted(p for p, k in votes.items() if k == APPROVAL and p not in excluded)
    rejecters = sorted(p for p, k in votes.items() if k == REJECTION)
    found: list[Condition] = []
    if policy.required_approvals:
        need = policy.required_approvals
        detail = (f"{len(approvers)} of {need} approvals by distinct maintainers other "
                  f"than the authors" + (f" ({', '.join(approvers)})" if approvers else ""))
        found.append(Condition("approvals", len(approvers) >= need, detail))
    if rejecters:
        found.append(Condition("rejections", False,
                               f"rejected by {', '.join(rejecters)}: a rejection blocks "
                               "until its author approves again"))
    return found


def counted_approvers(reviews: Iterable[Review], digest: str | None,
                      excluded: frozenset[str]) -> list[str]:
    votes = decisions(reviews, digest)
    return sorted(p for p, k in votes.items() if k == APPROVAL and p not in excluded)


def evidence_conditions(policy: PromotionPolicy, evidence: Evidence) -> list[Condition]:
    found: list[Condition] = []
    if policy.require_passing_evaluation:
        ok = bool(evidence.passing_evaluation)
        found.append(Condition("evaluation", ok, "an active evaluation of this version "
                               "passed" if ok else "no active evaluation of this version "
                               "with passed=true"))
    if policy.require_verified_attestation:
        ok = bool(evidence.verified_attestation)
        found.append(Condition("attestation", ok, "a verified attestation signed with a "
                               "namespace key is about this artifact digest" if ok else
                               "no attestation signed with a live namespace key is about "
                               "this artifact digest"))
    if policy.require_clean_deps:
        violations = evidence.deps_violations or []
        ok = evidence.deps_violations is not None and not violations
        detail = (f"runs on {policy.deps_target}" if ok else
                  f"does not run on {policy.deps_target}: " + "; ".join(violations[:5]))
        found.append(Condition("deps", ok, detail))
    return found
