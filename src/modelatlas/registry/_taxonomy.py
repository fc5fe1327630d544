"""The service layer's taxonomy operations, mixed into :class:`Registry`."""

from __future__ import annotations


class TaxonomyService:
    """Mixed into :class:`modelatlas.registry.Registry`: methods here may use
    ``self.db``, ``self.settings`` and ``self._write(actor)`` as the other service methods do."""
