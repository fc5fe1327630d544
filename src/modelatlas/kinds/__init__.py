"""Per-kind metadata schemas, their versions, and the upgraders that read old records."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from modelatlas.errors import FieldError, MetadataInvalid
from modelatlas.kinds._base import KindSpec, Metadata
from modelatlas.kinds.schemas import SPECS
from modelatlas.refs import check_kind

__all__ = ["SPECS", "KindSpec", "Metadata", "read_metadata", "spec", "validate_metadata"]


def spec(kind: str) -> KindSpec:
    return SPECS[check_kind(kind)]


def pydantic_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    return [
        FieldError(prefix + "".join(f"/{part}" for part in err["loc"]), err["msg"])
        for err in exc.errors()
    ]


def validate_metadata(
    kind: str, data: dict[str, Any], *, path: str = "/metadata"
) -> dict[str, Any]:
    """Validate metadata for ``kind`` under its current schema; return the stored form."""
    try:
        model = spec(kind).schema.model_validate(data)
    except ValidationError as exc:
        errors = pydantic_errors(exc, path)
        raise MetadataInvalid(
            f"metadata does not fit the {kind} schema: "
            + "; ".join(f"{e.path}: {e.message}" for e in errors),
            errors=errors,
        ) from None
    return model.model_dump(mode="json", exclude_none=True)


def read_metadata(kind: str, data: dict[str, Any], written_under: int) -> dict[str, Any]:
    """Bring a stored record up to the current schema version of its kind."""
    return spec(kind).upgrade(data, written_under)
