"""The third-party tools the integration tests run for real, each in a virtual environment
of its own that `make test` builds (ModelAtlas depends on none of them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def interpreter(variable: str, venv: str) -> str:
    """The Python of ``venv`` named by ``variable``: a failure under CI when it is missing
    (the run must test it), a skip elsewhere."""
    found = os.environ.get(variable)
    if found and Path(found).exists():
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{variable} is not set: run the suite with `make test` (it builds {venv})")
    pytest.skip(f"no {venv} interpreter: set {variable} (make test does)")
