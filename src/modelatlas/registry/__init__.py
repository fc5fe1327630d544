"""The service layer (see :class:`Registry`)."""

from modelatlas.registry.service import Registry
from modelatlas.registry.types import (
    Asset,
    AssetCreate,
    AssetUpdate,
    Event,
    FacetValue,
    InlineAsset,
    ModelSpec,
    NamespaceSchema,
    Page,
    Registration,
    Relation,
    RelationCreate,
    RunSpec,
    SearchResult,
    VersionRegistration,
)

__all__ = [
    "Asset", "AssetCreate", "AssetUpdate", "Event", "FacetValue", "InlineAsset", "ModelSpec",
    "NamespaceSchema", "Page", "Registration", "Registry", "Relation", "RelationCreate",
    "RunSpec", "SearchResult", "VersionRegistration",
]
