"""What the caller may read, as the search package receives it.

The rule is governance's (``governance.grants.readable_clause``); search is its sibling
and may not import it, so the service layer hands it in, already bound to the caller:

- :data:`Visible`: a function from an ``assets`` table (or an alias of it) to the
  condition keeping the rows the caller may read. Search, facets and related assets fold
  it into the statement they build per call.
- :class:`BoundVisibility`: the same rule for the statements suggest builds once and
  reuses (see ``search.suggest``): conditions made of named bound parameters only, so one
  statement serves every caller, and the caller's values in ``params``.

``None`` in place of either means the caller may read everything (the local user, a
registry-wide maintainer): no condition is added, so the statement is the one it was.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.sql.elements import ColumnElement

Visible = Callable[[Any], ColumnElement[bool]]


class BoundRule(Hashable, Protocol):
    """A read rule in bound-parameter form. Invariant: the conditions depend on no caller
    (only on named parameters), so a statement built with one is cached by the rule."""

    def assets(self, table: Any) -> ColumnElement[bool]:
        """Keep the rows of ``table`` (``assets`` or an alias) the caller may read."""
        ...

    def namespaces(self, column: Any) -> ColumnElement[bool]:
        """Keep the namespaces the caller may read something in."""
        ...


@dataclass(frozen=True)
class BoundVisibility:
    """A :class:`BoundRule` and one caller's values for its parameters."""

    rule: BoundRule
    params: Mapping[str, Any]

    @property
    def key(self) -> Hashable:
        """What identifies the caller's readable set (for caches of derived values)."""
        return tuple(sorted((k, tuple(sorted(v)) if isinstance(v, list | tuple | frozenset | set)
                             else v) for k, v in self.params.items()))
