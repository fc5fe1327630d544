"""Wire types of catalog reconciliation and of the CI/CD policy check."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogReconcileIn(_In):
    format: Literal["auto", "marquez", "datahub"] = "auto"
    export: dict[str, Any] | list[Any] = Field(
        description="the parsed export: a Marquez dataset listing or a DataHub MCE/MCP list")
    namespace: str | None = Field(default=None, description="compare this namespace only")
    sync: bool = Field(default=False, description="create missing datasets and register "
                                                  "new schema versions for drifted ones")


class FieldDiff(BaseModel):
    field: str
    change: Literal["added", "removed", "type_changed"] = Field(
        description="added: in the catalog only; removed: in the registry only")
    catalog: str | None = None
    registry: str | None = None


class CatalogDataset(BaseModel):
    ref: str = Field(description="the registry dataset the catalog entry maps to (@live)")
    source: dict[str, Any] = Field(description="where the catalog has it (namespace, name, "
                                               "urn, platform ...)")
    fields: int | None = Field(default=None, description="how many fields the catalog gives")


class RegistryDataset(BaseModel):
    namespace: str
    name: str
    ref: str = Field(description="its newest version")


class DriftedDataset(BaseModel):
    ref: str
    schema_ref: str | None = Field(default=None, description="the registry schema compared; "
                                                             "None when it has none")
    changes: list[FieldDiff]


class CatalogReconcileReport(BaseModel):
    format: str
    namespace: str | None = None
    in_sync: bool
    compared: int = Field(description="catalog datasets compared")
    missing: list[CatalogDataset] = Field(default_factory=list,
                                          description="in the catalog, not in the registry")
    extra: list[RegistryDataset] = Field(default_factory=list,
                                         description="in the registry, not in the catalog")
    drifted: list[DriftedDataset] = Field(default_factory=list)
    synced: bool = False
    created: list[str] = Field(default_factory=list, description="refs sync created")


class PolicyCheckIn(_In):
    ref: str = Field(description="the model version to check")
    environment: str | None = Field(
        default=None, description="environment or deployment ref for the dependency check; "
                                  "default: the namespace promotion policy's deps_target")


class PolicyCheckItem(BaseModel):
    name: Literal["dependencies", "lineage", "signature", "revalidation"]
    status: Literal["pass", "fail", "skip"]
    detail: str


class PolicyCheckResult(BaseModel):
    ref: str
    passed: bool = Field(description="no check failed (skipped ones do not fail)")
    checks: list[PolicyCheckItem]
