"""``modelatlas search`` commands."""

from __future__ import annotations
