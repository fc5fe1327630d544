"""Settings from ``MODELATLAS_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Object stores, files, web, MLflow and model hubs, OCI images, git; and the dataset
# namespaces OpenLineage producers send (postgres://host:5432, kafka://broker ...).
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
DEFAULT_URI_SCHEMES = (
    "s3,s3a,s3n,gs,gcs,az,abfs,abfss,wasb,wasbs,adl,hdfs,webhdfs,dbfs,file,https,http,"
    "runs,models,mlflow-artifacts,hf,oci,docker,git,git+https,git+ssh,ssh,"
    "postgres,postgresql,mysql,sqlserver,oracle,db2,teradata,redshift,snowflake,bigquery,"
    "trino,hive,kafka,mongodb,cassandra,azurecosmos,kusto,spanner,bigtable,databricks"
)


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

    # hardening: URIs, stored artifacts, browser-facing headers (docs/operations.md) -----
    uri_schemes: str = Field(
        default=DEFAULT_URI_SCHEMES, description="comma-separated URI schemes metadata may "
        "record (artifacts[].uri, location, repository, endpoint)")
    artifact_dir: Path | None = Field(
        default=None, description="where uploaded artifact bytes are kept, by SHA-256; "
        "default MODELATLAS_HOME/artifacts")
    max_artifact_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="largest artifact upload (bytes)")
    cors_origins: str = Field(
        default="", description="comma-separated exact origins a browser may call the API "
        "from; empty: no CORS headers at all")
    hsts: bool = Field(
        default=False, description="send Strict-Transport-Security on every response (set "
        "behind a TLS-terminating proxy; requests over https get it anyway)")

    @field_validator("uri_schemes")
    @classmethod
    def _schemes(cls, value: str) -> str:
        # a typo must stop start-up, not fail every later write
        bad = [s for s in value.split(",") if s.strip() and not _SCHEME.match(s.strip().lower())]
        if bad:
            raise ValueError(f"not URI schemes: {', '.join(bad)}")
        return value

    def resolved_artifact_dir(self) -> Path:
        return self.artifact_dir or self.home / "artifacts"

    # encryption at rest of sensitive fields (governance/crypto.py) -------------------
    encryption_key: SecretStr | None = Field(
        default=None, description="data encryption keys as [id:]base64 (32 bytes), comma-"
        "separated, the first current; when set, the key file is not used")
    encryption_key_file: Path | None = Field(
        default=None, description="data encryption keyring; default "
        "MODELATLAS_HOME/keys/data.key, generated (0600) on first need")

    # webhooks (notify/, registry/_webhook_worker.py) ----------------------------------
    webhook_worker: bool = Field(
        default=True, description="`modelatlas serve` runs the webhook worker in a "
        "background thread (several servers may: deliveries are leased)")
    webhook_allow_private: bool = Field(
        default=False, description="let webhooks created with allow_private call loopback "
        "and private addresses (tests, labs); never on a shared server")
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="time a receiver has to answer a delivery")
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=50, description="attempts before a delivery is dead")
    webhook_retry_seconds: str = Field(
        default="10,30,120,600,3600,10800,21600", description="comma-separated delays "
        "before attempts 2, 3, ... (the last repeats), each plus up to 20% jitter")
    webhook_poll_seconds: float = Field(
        default=2.0, gt=0, le=300, description="how often the worker looks for new events")

    # integrations: model cards (integrations/modelcards.py) ---------------------------
    hf_namespace: str = Field(
        default="hf", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="namespace of the "
        "datasets and base models a Hugging Face card names by Hub id")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'registry.db').resolve()}"

    # web UI sign-in with OIDC: authorization code + PKCE (web/oidc.py) ---------------
    oidc_client_id: str | None = Field(
        default=None, description="the UI's client id at the provider (with "
        "MODELATLAS_OIDC_ISSUER): shows 'Sign in with <provider>' on the sign-in page")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="the client's secret for a confidential client; unset: a "
        "public client, which PKCE protects")
    oidc_redirect_url: str | None = Field(
        default=None, description="the callback registered at the provider; default "
        "<this site>/sign-in/oidc/callback, derived from the request")
    oidc_scopes: str = Field(
        default="openid profile email", description="space-separated scopes the UI asks "
        "for; must include openid")
    oidc_provider_name: str | None = Field(
        default=None, description="the provider's name on the sign-in button; default the "
        "issuer's host")

    @model_validator(mode="after")
    def _oidc_sign_in(self) -> Settings:
        # a half-configured browser sign-in must stop start-up, not fail at the first click
        if self.oidc_client_id and not self.oidc_issuer:
            raise ValueError("MODELATLAS_OIDC_CLIENT_ID needs MODELATLAS_OIDC_ISSUER")
        if self.oidc_client_secret and not self.oidc_client_id:
            raise ValueError("MODELATLAS_OIDC_CLIENT_SECRET needs MODELATLAS_OIDC_CLIENT_ID")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("MODELATLAS_OIDC_SCOPES must include openid")
        url = self.oidc_redirect_url
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("MODELATLAS_OIDC_REDIRECT_URL must be an absolute http(s) URL")
        return self
