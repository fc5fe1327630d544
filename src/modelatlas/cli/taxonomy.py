"""``modelatlas taxonomy`` commands."""

from __future__ import annotations
