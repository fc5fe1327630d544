"""``modelatlas deps impact`` and the revalidation marks: what a change would break."""

from __future__ import annotations

from modelatlas.cli.deps import deps_app

__all__ = ["deps_app"]
