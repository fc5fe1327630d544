"""Fixtures of the integrity tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _trust_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clients hold checked checkpoints per user (~/.config/modelatlas/checkpoints): keep
    every test's in its own folder, never the real one."""
    folder = tmp_path / "trusted"
    monkeypatch.setenv("MODELATLAS_TRUST_DIR", str(folder))
    return folder
