"""Per-kind metadata schemas, their versions, and the upgraders that read old records."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from modelatlas.errors import InvalidInput, MetadataInvalid, field_errors
from modelatlas.kinds._base import KindSpec, Metadata
from modelatlas.kinds.schemas import SPECS
from modelatlas.refs import Ref, check_kind

__all__ = ["SPECS", "KindSpec", "Metadata", "read_metadata", "spec", "validate_metadata"]


def spec(kind: str) -> KindSpec:
    return SPECS[check_kind(kind)]


def validate_metadata(
    kind: str, data: dict[str, Any], *, path: str = "/metadata"
) -> dict[str, Any]:
    """Validate metadata for ``kind`` under its current schema; return the stored form."""
    try:
        model = spec(kind).schema.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc, path)
        raise MetadataInvalid(
            f"metadata does not fit the {kind} schema: "
            + "; ".join(f"{e.path}: {e.message}" for e in errors),
            errors=errors,
        ) from None
    return model.model_dump(mode="json", exclude_none=True)


def read_metadata(kind: str, data: dict[str, Any], written_under: int) -> dict[str, Any]:
    """Bring a stored record up to the current schema version of its kind."""
    return spec(kind).upgrade(data, written_under)


def check_version_policy(ref: Ref, path: str, *, assigned: str = "refuse") -> None:
    """Refuse a version where the kind has none, or none where it needs one.

    ``assigned`` says what to do with kinds whose numbers the registry assigns (model
    versions): ``"refuse"`` them (they are registered, not created), or ``"explicit"``
    (bulk loads carry numbers already assigned elsewhere).
    """
    policy = SPECS[ref.kind].version_policy
    if policy == "assigned":
        if assigned == "refuse":
            raise InvalidInput.at(
                path, f"{ref.kind} numbers are assigned: register it with POST /models/.../versions"
            )
        if not (ref.version and ref.version.isdigit() and int(ref.version) > 0):
            raise InvalidInput.at(path, f"a {ref.kind} needs its number: {ref.kind}:ns/name@1")
    if policy == "none" and ref.version is not None:
        raise InvalidInput.at(path, f"a {ref.kind} has no version; drop '@{ref.version}'")
    if policy == "required" and ref.version is None:
        raise InvalidInput.at(path, f"a {ref.kind} needs a version: {ref}@1")
