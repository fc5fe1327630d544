"""``client.deprecations`` (``/deprecations/{ref}``), ``client.reports``
(``/reports/...``), and the warning the SDK gives when it reads a deprecated model version.

The rule is one: a read of a deprecated version warns with
:class:`ModelAtlasDeprecationWarning`, naming the version, its sunset and its replacement.
Over HTTP it is read from the response's ``Deprecation``/``Sunset``/``Link`` headers
(:func:`warn_from_headers`); in-process from the plan itself (:func:`warn_deprecated`),
and the HTTP path ends in the same function, so both say the same.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from modelatlas.client._transport import _given, _Transport, _validated
from modelatlas.registry.deprecation_types import (
    DeprecatedDeployment,
    Deprecation,
    DeprecationPlan,
    format_time,
)
from modelatlas.registry.types import Page

_SUCCESSOR = re.compile(r'<[^>]*/assets/([^>]+)>\s*;\s*rel="?successor-version"?')


def _outside_sdk() -> int:
    """The ``stacklevel`` of the first frame outside modelatlas: the user's line calling
    the SDK, however many of our frames lie between (they differ by transport)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("modelatlas."):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    return level


class ModelAtlasDeprecationWarning(DeprecationWarning):
    """A model version the SDK read is deprecated: move to the replacement before the
    sunset. ``ref``, ``sunset`` (ISO 8601 UTC) and ``replacement`` (or None) say which."""

    def __init__(self, ref: str, sunset: str, replacement: str | None) -> None:
        self.ref, self.sunset, self.replacement = ref, sunset, replacement
        instead = f"; use {replacement}" if replacement else ""
        super().__init__(f"{ref} is deprecated and stops being supported at {sunset}"
                         f"{instead} (ModelAtlasDeprecationWarning)")


def warn_deprecated(ref: str, sunset: str, replacement: str | None) -> None:
    warnings.warn(ModelAtlasDeprecationWarning(ref, sunset, replacement),
                  stacklevel=_outside_sdk())


def warn_from_headers(headers: Mapping[str, str], body: Any, path: str) -> None:
    """Warn when a response carries ``Deprecation`` (whatever else it lacks: a server
    that says so is believed, and an unreadable ``Sunset`` is shown as it came). The
    version is the answer's ``ref``, else the request's path."""
    if "deprecation" not in headers:
        return
    ref = body["ref"] if isinstance(body, dict) and isinstance(body.get("ref"), str) \
        else unquote(path)
    sunset = headers.get("sunset", "unknown")
    try:
        sunset = format_time(parsedate_to_datetime(sunset))
    except (TypeError, ValueError):
        pass
    found = _SUCCESSOR.search(headers.get("link", ""))
    warn_deprecated(ref, sunset, unquote(found.group(1)) if found else None)


def warn_plan(plan: Deprecation | None) -> None:
    if plan is not None:
        warn_deprecated(plan.ref, plan.sunset, plan.replacement)


class DeprecationsAPI:
    """``client.deprecations``: announce (or revise), read and withdraw a model version's
    deprecation plan."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def announce(self, ref: str, *, sunset: str, reason: str,
                 replacement: str | None = None) -> Deprecation:
        """Deprecate ``ref`` until ``sunset`` (a date, 2027-03-01, or an ISO time with a
        zone) and notify its consumers; announcing again revises the plan."""
        body = _validated(DeprecationPlan, _given(sunset=sunset, reason=reason,
                                                  replacement=replacement))
        return self._t.deprecate(ref, body)

    def get(self, ref: str) -> Deprecation:
        return self._t.deprecation(ref)

    def withdraw(self, ref: str) -> Deprecation:
        """Take the plan back (the version is no longer deprecated); answers the plan."""
        return self._t.withdraw_deprecation(ref)


class ReportsAPI:
    """``client.reports``: registry-wide reports, filtered to what the caller may read."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def deprecated_deployments(self, *, cursor: str | None = None,
                               limit: int = 100) -> Page[DeprecatedDeployment]:
        """Deployments still serving deprecated model versions, earliest sunset first."""
        query: dict[str, Any] = _given(cursor=cursor, limit=limit)
        return self._t.deprecated_deployments(query)
