"""The typed syntax tree of a query. The parser builds it and checks every value, so the
compiler never sees a field it does not know or a value of the wrong type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Comparison = Literal["=", "!=", ">", ">=", "<", "<="]


@dataclass(frozen=True, slots=True)
class Text:
    """Free text: a word, or a quoted phrase (``phrase=True``)."""

    text: str
    phrase: bool
    column: int


@dataclass(frozen=True, slots=True)
class Match:
    """A plain field (``kind``, ``namespace``, ``name``, ``owner``, ``tag``, ``state``):
    equal to ``value``, or starting with it when ``prefix``."""

    field: str
    value: str
    prefix: bool
    negated: bool
    column: int


@dataclass(frozen=True, slots=True)
class RefMatch:
    """``ref:kind:namespace/name[@version]``; without a version, any version."""

    kind: str
    namespace: str
    name: str
    version: str | None
    column: int


@dataclass(frozen=True, slots=True)
class JsonCompare:
    """A metadata path (``meta.framework``, ``metrics.auc`` = ``meta.metrics.auc``,
    ``custom.x``) compared with a number or a text value."""

    document: Literal["meta", "custom"]
    path: tuple[str, ...]
    op: Comparison
    value: float | str
    column: int


DateField = Literal["created", "updated"]


@dataclass(frozen=True, slots=True)
class DateCompare:
    """``created`` or ``updated`` in the half-open range ``since <= t < before`` (ISO 8601
    UTC text, as stored; either bound may be open), resolved from dates, datetimes and
    ``last-30d``."""

    field: DateField
    since: str | None
    before: str | None
    column: int


@dataclass(frozen=True, slots=True)
class Graph:
    """A predicate over relations, e.g. ``trained_on*:dataset:finance/transactions``."""

    predicate: str
    transitive: bool
    kind: str
    namespace: str
    name: str
    version: str | None
    column: int


@dataclass(frozen=True, slots=True)
class RequiresPackage:
    """``requires:pkg:numpy<2``: model versions that declare a requirement on the package
    whose specifier admits some version the query's specifier admits (``""``: any)."""

    package: str
    specifier: str
    column: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Everything:
    """The empty query: every asset (useful with facets to browse)."""


Node = (Text | Match | RefMatch | JsonCompare | DateCompare | Graph | RequiresPackage | Not | And
        | Or | Everything)


def walk(node: Node) -> list[Node]:
    """Every node of the tree, depth first (iterative: trees are at most 20 deep anyway)."""
    found: list[Node] = []
    pending: list[Node] = [node]
    while pending:
        current = pending.pop()
        found.append(current)
        if isinstance(current, Not):
            pending.append(current.operand)
        elif isinstance(current, And | Or):
            pending.extend(reversed(current.operands))
    return found
