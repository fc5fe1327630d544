"""Wire types of API tokens. No type here carries a token's hash; only
:class:`TokenCreated`, answered once by the create call, carries its secret."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TokenStatus = Literal["active", "expired", "revoked"]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200, description="a label, e.g. ci-deploy")
    scopes: list[str] | None = Field(
        default=None, max_length=3, description="read, write, admin; default read+write")
    expires_in_days: int | None = Field(
        default=None, description="lifetime in days: default 90, at most 365")


class Token(BaseModel):
    token_id: str = Field(description="the public part of the token, e.g. in mat_<id>_...")
    name: str
    person: str = Field(description="who the token acts as")
    scopes: list[str]
    status: TokenStatus
    created_at: str
    created_by: str
    expires_at: str
    last_used_at: str | None = Field(
        default=None, description="updated at most once an hour per token")
    revoked_at: str | None = None
    revoked_by: str | None = None


class TokenCreated(Token):
    token: str = Field(description="the secret token: shown once, never again")
