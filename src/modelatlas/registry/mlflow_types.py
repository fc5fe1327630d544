"""What an MLflow import answers (``modelatlas import mlflow --json``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["created", "updated"]


class MlflowChange(BaseModel):
    """One thing the import wrote: an asset made, or a stage or alias moved."""

    ref: str
    outcome: Outcome
    what: str = Field(description="model, model_version, run, dataset, alias or stage")
    detail: str = ""


class MlflowImported(BaseModel):
    tracking_uri: str
    namespace: str
    models: int = Field(description="registered models read from MLflow")
    created: int = Field(description="assets and aliases made by this import")
    updated: int = Field(description="stages and aliases moved to what MLflow says now")
    unchanged: int = Field(description="assets, aliases and stages already as MLflow has them")
    changes: list[MlflowChange] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="what was read but not "
                             "written, and why")
