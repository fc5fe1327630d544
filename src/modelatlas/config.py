"""Settings from ``MODELATLAS_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import getpass
from pathlib import Path

from pydantic import Field
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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'registry.db').resolve()}"
