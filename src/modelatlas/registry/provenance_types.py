"""The wire shapes of provenance questions (``/prov``, ``/provenance``,
``/metrics/provenance``). They are defined beside the logic that fills them
(:mod:`modelatlas.lineage.report`, :mod:`modelatlas.lineage.metrics`) and named here for
the API, the SDK and the CLI."""

from __future__ import annotations

from modelatlas.lineage.metrics import ProvenanceFigures, ProvenanceMetrics, TeamProvenance
from modelatlas.lineage.prov import FORMATS, MEDIA_TYPES, ProvFormat
from modelatlas.lineage.report import (
    CodeStep,
    DataStep,
    DeploymentStep,
    EnvironmentStep,
    EvaluationStep,
    Missing,
    ProvenanceReport,
    RunStep,
    Step,
)

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "CodeStep",
    "DataStep",
    "DeploymentStep",
    "EnvironmentStep",
    "EvaluationStep",
    "Missing",
    "ProvFormat",
    "ProvenanceFigures",
    "ProvenanceMetrics",
    "ProvenanceReport",
    "RunStep",
    "Step",
    "TeamProvenance",
]
