"""OpenLineage in: events validated against the published JSON Schemas (offline) and mapped
onto the graph (jobs, runs, datasets, schemas). See docs/openlineage.md."""

from modelatlas.lineage.openlineage.mapping import Plan, fold, schema_for
from modelatlas.lineage.openlineage.naming import (
    dataset_ref,
    job_ref,
    name_for,
    namespace_for,
    run_ref,
)
from modelatlas.lineage.openlineage.schemas import (
    OpenLineageInvalid,
    core_version,
    shipped_versions,
    validate_event,
)
from modelatlas.lineage.openlineage.screen import plain_body, plainly_safe

__all__ = [
    "OpenLineageInvalid",
    "Plan",
    "core_version",
    "dataset_ref",
    "fold",
    "job_ref",
    "name_for",
    "namespace_for",
    "plain_body",
    "plainly_safe",
    "run_ref",
    "schema_for",
    "shipped_versions",
    "validate_event",
]
