"""The service layer's impact analysis and revalidation marks, mixed into
:class:`Registry`."""

from __future__ import annotations


class ImpactService:
    """Mixed into :class:`modelatlas.registry.Registry`."""
