"""Settings from ``MODELATLAS_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import getpass
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "local"


class Settings(BaseSettings):
    """Every setting ModelAtlas reads; each is documented in docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="MODELATLAS_", extra="ignore")

    home: Path = Field(default=Path(".modelatlas"), description="SQLite file, keys, artifacts")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite in MODELATLAS_HOME"
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="request size limit")
    max_json_depth: int = Field(default=32, ge=2, le=256, description="JSON nesting limit")
    page_limit_max: int = Field(default=500, ge=1, description="largest page a list returns")
    actor: str = Field(default_factory=_default_actor, description="actor for local writes")
    url: str | None = Field(default=None, description="registry URL the CLI talks to")
    usage_half_life_days: float = Field(
        default=14.0, gt=0, le=3650, description="half-life of learned usage weights (days)"
    )

    audit_key_file: Path | None = Field(
        default=None, description="Ed25519 note key signing audit checkpoints; default "
        "MODELATLAS_HOME/keys/audit.key, generated (0600) on first use"
    )
    audit_origin: str | None = Field(
        default=None, description="checkpoint origin line; default modelatlas.local/<log id>"
    )

    # authentication (governance/authn.py checks these at start-up) -------------------
    auth_required: bool = Field(
        default=False, description="refuse callers without a valid credential; required "
        "for `modelatlas serve --host` beyond loopback")
    token: SecretStr | None = Field(
        default=None, description="the client's API token or OIDC JWT, sent as "
        "Authorization: Bearer by the SDK and CLI over HTTP")
    oidc_issuer: str | None = Field(default=None, description="OIDC issuer URL")
    oidc_audience: str | None = Field(default=None, description="expected `aud` of OIDC JWTs")
    oidc_jwks_url: str | None = Field(
        default=None, description="JWKS URL; default discovered from the issuer")
    oidc_algorithms: str = Field(
        default="RS256,ES256,EdDSA", description="accepted JWT algorithms (asymmetric only)")
    oidc_groups_claim: str = Field(default="groups", description="claim listing groups")
    oidc_username_claim: str = Field(default="sub", description="claim naming the person")
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300, description="clock skew")
    trusted_proxies: str = Field(
        default="", description="comma-separated addresses/networks whose forwarded "
        "identity header is believed")
    forwarded_user_header: str = Field(
        default="X-Forwarded-User", description="identity header a trusted proxy sets")
    auth_failures_per_minute: int = Field(
        default=10, ge=1, le=10_000, description="failed authentications per client address "
        "per minute before it is refused outright")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'registry.db').resolve()}"
