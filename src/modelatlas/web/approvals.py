"""The approvals inbox: open promotion requests the person may review, each with what the
promotion policy still misses, and an approve / reject form.

The page decides nothing about rights: it passes the person to the service, which checks
the role, separation of duties and the policy, and whatever it refuses is shown in the
request's row. A decision posted by htmx answers with the row alone (swapped in place); a
plain form post (no JavaScript) is answered with a redirect back to the inbox, or with the
inbox and the refusal in the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError
from modelatlas.governance import Principal
from modelatlas.refs import Ref
from modelatlas.registry import Registry
from modelatlas.registry.lifecycle_types import ApprovalRequest, PromotionStatus
from modelatlas.web import session as _session
from modelatlas.web._render import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 20
_VERSION = "/approvals/{namespace}/{name}/{version}"


@dataclass
class Row:
    """One request as the page shows it: the request (None when the person no longer sees
    it in their inbox), what promotion needs now, and the outcome of a decision."""

    ref: Ref
    request: ApprovalRequest | None = None
    status: PromotionStatus | None = None
    done: str | None = None
    refused: str | None = None

    @property
    def dom_id(self) -> str:
        return "request-" + "-".join(
            "".join(c if c.isalnum() else "_" for c in part)
            for part in (self.ref.namespace, self.ref.name, self.ref.version or ""))

    @property
    def href(self) -> str:
        return f"/models/{self.ref.namespace}/{self.ref.name}/versions/{self.ref.version}"

    @property
    def action(self) -> str:
        return f"/approvals/{self.ref.namespace}/{self.ref.name}/{self.ref.version}"

    @property
    def open(self) -> bool:
        """Whether a decision may still be given here (not once it was promoted)."""
        return self.status is None or self.status.stage != "production"


def _status(registry: Registry, ref: Ref, principal: Principal) -> PromotionStatus | None:
    try:
        return registry.promotion_status(ref.namespace, ref.name, ref.version or "",
                                         principal=principal)
    except ModelAtlasError:
        return None  # no longer readable: the row says what it can


def _rows(registry: Registry, principal: Principal, items: list[ApprovalRequest]) -> list[Row]:
    rows = []
    for item in items:
        ref = Ref.parse(item.ref)
        rows.append(Row(ref, item, _status(registry, ref, principal)))
    return rows


def _inbox_page(request: Request, registry: Registry, principal: Principal,
                cursor: str | None, replaced: Row | None = None) -> Response:
    page = registry.approval_inbox(cursor=cursor, limit=PAGE_SIZE, principal=principal)
    rows = _rows(registry, principal, page.items)
    if replaced is not None:  # the decision's outcome in its row (or first, when gone)
        rows = [replaced if r.ref == replaced.ref else r for r in rows]
        if all(r.ref != replaced.ref for r in rows):
            rows.insert(0, replaced)
    return render(request, "approvals.html", {"rows": rows, "next_cursor": page.next_cursor})


@router.get("/approvals")
def approvals(request: Request, principal: _session.PagePrincipal,
              registry: _session.PageRegistry, cursor: str | None = None) -> Response:
    return _inbox_page(request, registry, principal, cursor)


def _decide(registry: Registry, principal: Principal, ref: Ref, decision: str,
            comment: str) -> Row:
    """Give the decision; the row with what happened, or why the service refused."""
    row = Row(ref, _request_of(registry, principal, ref))
    try:
        if decision == "reject" and not comment.strip():
            raise InvalidInput("a rejection needs a comment: say what must change",
                               errors=[FieldError("/comment", "required to reject")])
        result = registry.review_version(ref.namespace, ref.name, ref.version or "",
                                         {"decision": decision, "comment": comment},
                                         principal=principal)
    except ModelAtlasError as exc:
        row.refused = exc.detail
    else:
        verb = "Approved" if decision == "approve" else "Rejected"
        row.done = (f"{verb}: {ref} is now in {result.stage}." if result.promoted
                    else f"{verb}. " + ("" if result.counted else
                                        "You had approved it already: it counts once."))
    row.status = _status(registry, ref, principal)
    return row


def _request_of(registry: Registry, principal: Principal, ref: Ref) -> ApprovalRequest | None:
    page = registry.approval_inbox(namespace=ref.namespace, limit=PAGE_SIZE * 5,
                                   principal=principal)
    return next((r for r in page.items if r.ref == str(ref)), None)


def _answer(request: Request, registry: Registry, principal: Principal, ref: Ref,
            decision: str, comment: str) -> Response:
    row = _decide(registry, principal, ref, decision, comment)
    if request.headers.get("hx-request") == "true":
        return render(request, "approvals_row.html", {"row": row})
    if row.refused is None:
        return RedirectResponse("/approvals", status_code=303)
    return _inbox_page(request, registry, principal, None, replaced=row)


def _version_ref(namespace: str, name: str, version: str) -> Ref:
    return Ref.of("model_version", namespace, name, version)


Comment = Annotated[str, Form()]  # its length is the service's to check


@router.post(_VERSION + "/approve", dependencies=_session.CSRF)
def approve(request: Request, namespace: str, name: str, version: str,
            principal: _session.PagePrincipal, registry: _session.PageRegistry,
            comment: Comment = "") -> Response:
    return _answer(request, registry, principal, _version_ref(namespace, name, version),
                   "approve", comment)


@router.post(_VERSION + "/reject", dependencies=_session.CSRF)
def reject(request: Request, namespace: str, name: str, version: str,
           principal: _session.PagePrincipal, registry: _session.PageRegistry,
           comment: Comment = "") -> Response:
    return _answer(request, registry, principal, _version_ref(namespace, name, version),
                   "reject", comment)
