"""The one exception tree of ModelAtlas.

Every error a user can cause is a :class:`ModelAtlasError` with a stable ``code``, an HTTP
``status`` and structured ``errors`` (``path`` + ``message``), so the API turns it into an
RFC 9457 problem document and the CLI into a one-line diagnosis, from the same fields::

    ModelAtlasError                      500  internal
    ├── InvalidInput                     422  invalid_input        (fields named in .errors)
    │   ├── InvalidRef                   422  invalid_ref
    │   ├── UnknownKind                  422  unknown_kind
    │   ├── UnknownRelation              422  unknown_relation
    │   └── MetadataInvalid              422  metadata_invalid
    ├── MalformedBody                    400  malformed_body       (JSON that is not acceptable)
    ├── Unauthenticated                  401  unauthenticated      (no or a bad credential)
    ├── Forbidden                        403  forbidden            (role does not allow it)
    ├── NotFound                         404  not_found
    ├── AlreadyExists                    409  already_exists
    ├── Conflict                         409  conflict             (idempotency key reuse ...)
    ├── PreconditionFailed               412  precondition_failed  (stale If-Match revision)
    ├── PreconditionRequired             428  precondition_required
    ├── PayloadTooLarge                  413  payload_too_large
    ├── TooManyRequests                  429  too_many_requests    (failed authentications)
    └── Unavailable                      503  service_unavailable  (database or server down)
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as field errors, their paths under ``prefix``."""
    return [FieldError(prefix + "".join(f"/{part}" for part in err["loc"]), err["msg"])
            for err in exc.errors()]


@dataclass(frozen=True)
class FieldError:
    """One offending field: a JSON Pointer-like ``path`` (``/metadata/row_count``) and why."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class ModelAtlasError(Exception):
    code = "internal"
    status = 500
    title = "Internal error"
    remedy = ""

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])

    def problem(self, instance: str | None = None) -> dict[str, object]:
        """The RFC 9457 problem document for this error."""
        doc: dict[str, object] = {
            "type": f"https://modelatlas.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "errors": [e.as_dict() for e in self.errors],
        }
        if instance:
            doc["instance"] = instance
        return doc

    def diagnosis(self) -> str:
        """One line for a terminal: what went wrong, where, and what to do next."""
        parts = [self.detail]
        parts += [f"{e.path}: {e.message}" for e in self.errors if e.message not in self.detail]
        if self.remedy:
            parts.append(self.remedy)
        return " | ".join(parts)


class InvalidInput(ModelAtlasError):
    code = "invalid_input"
    status = 422
    title = "Invalid input"

    @classmethod
    def at(cls, path: str, message: str) -> InvalidInput:
        return cls(f"{path}: {message}", errors=[FieldError(path, message)])

    @classmethod
    def from_validation(cls, exc: ValidationError, *, lead: str = "") -> InvalidInput:
        """pydantic's error on a request model as ours: one field per problem, named by its
        path (``/requirements/packages/0``); ``lead`` goes before the summary."""
        errors = field_errors(exc)
        return cls(lead + "; ".join(f"{e.path}: {e.message}" for e in errors), errors=errors)


class InvalidRef(InvalidInput):
    code = "invalid_ref"
    title = "Malformed ref"
    remedy = "A ref reads kind:namespace/name@version, e.g. dataset:finance/transactions@3."


class UnknownKind(InvalidInput):
    code = "unknown_kind"
    title = "Unknown asset kind"


class UnknownRelation(InvalidInput):
    code = "unknown_relation"
    title = "Unknown or ill-typed relation"


class MetadataInvalid(InvalidInput):
    code = "metadata_invalid"
    title = "Metadata fails its schema"


class UnmatchedDeployments(InvalidInput):
    code = "unmatched_deployments"
    title = "Deployments serve no single known model version"
    remedy = "Import without strict to record them unmatched, or register the versions first."


class MalformedBody(ModelAtlasError):
    code = "malformed_body"
    status = 400
    title = "Malformed request body"


class Unauthenticated(ModelAtlasError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"
    remedy = "Send Authorization: Bearer <API token or OIDC token> (MODELATLAS_TOKEN)."


class Forbidden(ModelAtlasError):
    """The caller may not do this. ``action`` and ``required_role`` go into the problem
    document; the detail names the caller's own role only, never who else holds what."""

    code = "forbidden"
    status = 403
    title = "Forbidden"
    remedy = "Ask an admin of the namespace for the role named above."

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None,
                 action: str = "", required_role: str | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.action = action
        self.required_role = required_role

    def problem(self, instance: str | None = None) -> dict[str, object]:
        doc = super().problem(instance)
        doc["action"] = self.action
        doc["required_role"] = self.required_role
        return doc


class NotFound(ModelAtlasError):
    code = "not_found"
    status = 404
    title = "Not found"


class AlreadyExists(ModelAtlasError):
    code = "already_exists"
    status = 409
    title = "Already exists"


class Conflict(ModelAtlasError):
    code = "conflict"
    status = 409
    title = "Conflict"


class PreconditionFailed(ModelAtlasError):
    code = "precondition_failed"
    status = 412
    title = "Stale revision"
    remedy = "Fetch the asset again and retry with its current revision."


class PreconditionRequired(ModelAtlasError):
    code = "precondition_required"
    status = 428
    title = "Revision required"
    remedy = "Send If-Match with the asset's current ETag."


class PayloadTooLarge(ModelAtlasError):
    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class TooManyRequests(ModelAtlasError):
    code = "too_many_requests"
    status = 429
    title = "Too many requests"
    remedy = "Wait a minute, then retry with a valid credential."


class Unavailable(ModelAtlasError):
    code = "service_unavailable"
    status = 503
    title = "Service unavailable"
    remedy = "Check that the registry server and its database are running, then retry."
