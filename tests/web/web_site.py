"""What the web tests share beyond fixtures (a module of its own: every test file can
import it, which a conftest cannot promise under pytest's rootdir imports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelatlas.registry import Registry

# screenshots of every browser test, kept by CI as test artefacts
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@dataclass
class Site:
    """A served registry: its base URL and the registry behind it (for setting up and
    checking what the browser did)."""

    url: str
    registry: Registry
