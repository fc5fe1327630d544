"""What every kind's metadata schema shares, and the registry of kinds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

Upgrader = Callable[[dict[str, Any]], dict[str, Any]]


class Metadata(BaseModel):
    """Typed metadata of one kind. Unknown fields are refused: free-form data goes in
    ``custom`` (validated by the namespace's JSON Schema where it has one)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=False)


@dataclass(frozen=True)
class KindSpec:
    """A kind: its metadata model, the schema version it writes, and how to read older ones.

    ``upgraders[n]`` turns a record written under schema version ``n`` into version
    ``n + 1``; reading applies them in order, so every old record stays readable.
    """

    kind: str
    schema: type[Metadata]
    schema_version: int = 1
    upgraders: dict[int, Upgrader] = field(default_factory=dict)
    states: tuple[str, ...] = ("active", "deprecated", "archived")
    version_policy: str = "optional"  # "none" | "optional" | "required" | "assigned"
    digest_fields: tuple[str, ...] = ()  # metadata fields a content digest is derived from

    @property
    def default_state(self) -> str:
        return self.states[0]

    def upgrade(self, data: dict[str, Any], written_under: int) -> dict[str, Any]:
        version = written_under
        while version < self.schema_version:
            data = self.upgraders[version](dict(data))
            version += 1
        return data
