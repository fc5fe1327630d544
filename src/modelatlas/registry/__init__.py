"""The service layer (see :class:`Registry`)."""

from modelatlas.registry._suggest import RelatedAsset, UsageSignal
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
from modelatlas.search.suggest import Suggestion

__all__ = [
    "Asset",
    "AssetCreate",
    "AssetUpdate",
    "Event",
    "FacetValue",
    "InlineAsset",
    "ModelSpec",
    "NamespaceSchema",
    "Page",
    "Registration",
    "Registry",
    "RelatedAsset",
    "Relation",
    "RelationCreate",
    "RunSpec",
    "SearchResult",
    "Suggestion",
    "UsageSignal",
    "VersionRegistration",
]
