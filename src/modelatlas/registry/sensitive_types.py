"""Wire types of encryption at rest. None of them carries a key or a sensitive value."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SensitiveFieldsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] = Field(
        max_length=100, description="field paths: metadata.<key> (a text field of the "
        "kind) or custom.<key> (a top-level custom field); [] clears the list")


class SensitiveFields(BaseModel):
    namespace: str
    kind: str
    fields: list[str]
    updated_at: str | None = None
    updated_by: str | None = None


class DataKey(BaseModel):
    key_id: str
    current: bool
    rows: int = Field(description="sealed values still encrypted with this key")


class KeyStatus(BaseModel):
    source: Literal["file", "env"]
    current: str
    keys: list[DataKey]
    unknown_key_ids: list[str] = Field(
        default_factory=list, description="key ids rows use that the keyring lacks: those "
        "values cannot be read until the key is restored")


class KeyRotation(BaseModel):
    new_key_id: str | None = Field(
        description="the key this run created; None when it resumed an unfinished rotation "
        "(or the keys come from MODELATLAS_ENCRYPTION_KEY)")
    current: str
    reencrypted: int
    remaining: int = Field(description="values still on an older key (0: complete)")
    retired_key_ids: list[str] = Field(description="old keys removed from the key file")
