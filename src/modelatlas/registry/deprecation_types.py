"""The wire shapes of deprecating a model version (``/deprecations/{ref}``) and of the
report of deployments still serving deprecated versions
(``/reports/deprecated-deployments``): what the service takes and returns, also the JSON
on the wire."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelatlas.registry.lineage_types import KindCount

# What a deprecation notice names per consumer namespace at most (the count is whole).
NOTICE_NAMES = 100


def parse_sunset(value: str) -> datetime:
    """A date (``2027-03-01``: midnight UTC) or an ISO 8601 time with a zone, as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("a date (2027-03-01) or an ISO 8601 time with a zone") from None
    if len(value) == 10:  # a bare date: the day starts in UTC
        return parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is None:
        raise ValueError("give the time zone (e.g. 2027-03-01T00:00:00Z)")
    return parsed.astimezone(UTC)


class DeprecationPlan(BaseModel):
    """When a model version stops being supported, why, and what to use instead."""

    model_config = ConfigDict(extra="forbid")

    sunset: str = Field(max_length=40, description="a date (2027-03-01, midnight UTC) or "
                        "an ISO 8601 time with a zone; must be in the future")
    reason: str = Field(min_length=1, max_length=2000)
    replacement: str | None = Field(
        default=None, max_length=500,
        description="the model version to move to (any model's), e.g. "
                    "model_version:fraud/churn@8")

    @field_validator("sunset")
    @classmethod
    def _sunset(cls, value: str) -> str:
        return format_time(parse_sunset(value.strip()))

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why the version is deprecated")
        return value.strip()


def format_time(moment: datetime) -> str:
    """The stored form of times (store/tables.py): ISO 8601 UTC text with ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class Deprecation(BaseModel):
    """A deprecated model version's plan. ``announced_at`` is the first announcement (the
    ``Deprecation`` header's date), ``changed_at`` the latest; ``consumers`` counts, by
    kind, the direct consumers the latest announcement found and notified (deployments
    serving it, model versions derived from it, runs, evaluations and deployments that used
    it), in ``notified_namespaces`` namespaces."""

    ref: str
    sunset: str
    reason: str
    replacement: str | None = None
    announced_at: str
    announced_by: str
    changed_at: str
    changed_by: str
    consumers: list[KindCount] = Field(default_factory=list)
    notified_namespaces: int = 0


class DeprecatedDeployment(BaseModel):
    """A deployment still serving a deprecated model version. ``days_left`` is whole days
    until the sunset, negative once it has passed (``past_sunset``)."""

    deployment: str
    namespace: str
    state: str
    version: str
    sunset: str
    days_left: int
    past_sunset: bool
    reason: str
    replacement: str | None = None
