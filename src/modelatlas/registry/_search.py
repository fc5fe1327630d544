"""The service layer's search operations, mixed into :class:`Registry`."""

from __future__ import annotations


class SearchService:
    """Mixed into :class:`modelatlas.registry.Registry`: methods here may use
    ``self.db``, ``self.settings`` and ``self._write(actor)`` as the other service methods do."""
