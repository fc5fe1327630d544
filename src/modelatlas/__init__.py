"""ModelAtlas: a metadata-enriched model registry.

The public surface is small on purpose::

    from modelatlas import Client, Ref
    client = Client("http://127.0.0.1:8080")        # or Client.local(".modelatlas")
"""

from modelatlas import errors
from modelatlas.capture import capture
from modelatlas.client import Client
from modelatlas.errors import ModelAtlasError
from modelatlas.refs import Ref
from modelatlas.registry.types import (
    Asset,
    Event,
    InlineAsset,
    ModelSpec,
    Page,
    Registration,
    Relation,
    RunSpec,
    VersionRegistration,
)

__version__ = "0.1.0"

__all__ = [
    "Asset",
    "Client",
    "Event",
    "InlineAsset",
    "ModelAtlasError",
    "ModelSpec",
    "Page",
    "Ref",
    "Registration",
    "Relation",
    "RunSpec",
    "VersionRegistration",
    "__version__",
    "capture",
    "errors",
]
