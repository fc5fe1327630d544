"""The service layer's dependency operations (requirements, check, resolve, why), mixed
into :class:`Registry`."""

from __future__ import annotations


class DepsService:
    """Mixed into :class:`modelatlas.registry.Registry`."""
