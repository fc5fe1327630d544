"""What each field of the query language accepts: one builder per field family, each
turning ``field op value`` into a typed node or an :class:`InvalidInput` naming the column."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError
from modelatlas.refs import Ref, check_kind
from modelatlas.search.ast import (
    Comparison,
    DateCompare,
    DateField,
    Graph,
    JsonCompare,
    Match,
    Node,
    RefMatch,
    RequiresPackage,
)

PLAIN_FIELDS = ("kind", "namespace", "name", "owner", "tag", "state")
PREFIX_FIELDS = ("namespace", "name", "tag")
PACKAGE_PREFIX = "pkg:"
GRAPH_PREDICATES = ("trained_on", "uses_feature", "derived_from", "served_by", "requires")
TRANSITIVE = ("trained_on", "uses_feature", "derived_from")
DATE_FIELDS = ("created", "updated")
MAX_VALUE = 500

_OPS: dict[str, Comparison] = {
    ":": "=", "=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=",
}
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_RELATIVE = re.compile(r"^last-(\d{1,5})([hdwy])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
          "y": timedelta(days=365)}


class QueryError(InvalidInput):
    """A query that parses but asks for something that cannot be: an unknown field, a
    value of the wrong type. ``column`` is 1-based, as in the syntax error."""

    code = "invalid_query"
    title = "Invalid query"
    remedy = "See docs/query-language.md for the fields and the values each takes."

    @classmethod
    def at_column(cls, column: int, message: str) -> QueryError:
        return cls(f"column {column}: {message}", errors=[FieldError("/q", f"column {column}: "
                                                                     f"{message}")])


def fields_help() -> str:
    return ", ".join((*PLAIN_FIELDS, "ref", *DATE_FIELDS, "meta.<path>", "metrics.<name>",
                      "custom.<path>", *GRAPH_PREDICATES))


def build_term(field: str, op: str, value: str, column: int, *, now: datetime) -> Node:
    """The typed node for ``field op value``."""
    if len(value) > MAX_VALUE:
        raise QueryError.at_column(column, f"a value is at most {MAX_VALUE} characters")
    comparison = _OPS[op]
    transitive = field.endswith("*")
    base = field.removesuffix("*")
    if transitive and base not in TRANSITIVE:
        raise QueryError.at_column(column, f"'*' (transitive) applies to {', '.join(TRANSITIVE)}"
                                           f", not {base}")
    if base in GRAPH_PREDICATES:
        return _graph(base, transitive, comparison, value, column)
    if base in PLAIN_FIELDS:
        return _plain(base, comparison, value, column)
    if base == "ref":
        return _ref(comparison, value, column)
    if base in DATE_FIELDS:
        return _date(cast(DateField, base), comparison, value, column, now)
    head, _, rest = base.partition(".")
    if head in ("meta", "metrics", "custom") and rest:
        return _json(head, rest, comparison, value, column)
    raise QueryError.at_column(column, f"unknown field {base!r}; fields are {fields_help()}")


def _equality_only(field: str, op: Comparison, column: int) -> None:
    if op not in ("=", "!="):
        raise QueryError.at_column(column, f"{field} takes ':' (or '!='), not a comparison")


def _plain(field: str, op: Comparison, value: str, column: int) -> Match:
    _equality_only(field, op, column)
    prefix = value.endswith("*")
    if prefix:
        if field not in PREFIX_FIELDS:
            raise QueryError.at_column(column, f"{field} takes no prefix ('*')")
        value = value[:-1]
        if not value:
            raise QueryError.at_column(column, "a prefix needs at least one character")
    if field == "kind":
        _checked(column, lambda: check_kind(value))
    return Match(field, value, prefix, op == "!=", column)


def _checked(column: int, check: Callable[[], object]) -> object:
    """Run a value check; its error is re-raised pointing at the query column."""
    try:
        return check()
    except ModelAtlasError as exc:
        raise QueryError.at_column(column, exc.detail) from None


def _parse_ref(value: str, column: int) -> Ref:
    return cast(Ref, _checked(column, lambda: Ref.parse(value, path="/q")))


def _ref(op: Comparison, value: str, column: int) -> RefMatch:
    _equality_only("ref", op, column)
    ref = _parse_ref(value, column)
    return RefMatch(ref.kind, ref.namespace, ref.name, ref.version, column)


def _graph(predicate: str, transitive: bool, op: Comparison, value: str,
           column: int) -> Graph | RequiresPackage:
    if op != "=":
        raise QueryError.at_column(column, f"{predicate} takes ':' and a ref")
    if predicate == "requires" and value.startswith(PACKAGE_PREFIX):
        return _package(value.removeprefix(PACKAGE_PREFIX), column)
    ref = _parse_ref(value, column)
    return Graph(predicate, transitive, ref.kind, ref.namespace, ref.name, ref.version, column)


def _package(text: str, column: int) -> RequiresPackage:
    """``numpy``, ``numpy<2``, ``scikit-learn>=1.3,<1.6``: a PEP 508 name and specifier."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise QueryError.at_column(
            column, f"requires:pkg: takes a package and a version constraint, e.g. "
                    f"pkg:numpy<2 ({reason})") from None
    if requirement.marker or requirement.url or requirement.extras:
        raise QueryError.at_column(column, "requires:pkg: takes a name and a version "
                                           "constraint only (no extras, markers or URLs)")
    return RequiresPackage(canonicalize_name(requirement.name), str(requirement.specifier),
                           column)


def _json(head: str, rest: str, op: Comparison, value: str, column: int) -> JsonCompare:
    path = tuple(rest.split("."))
    if head == "metrics":
        path = ("metrics", *path)
    if len(path) > 10 or not all(_SEGMENT.match(part) for part in path):
        raise QueryError.at_column(column, "a metadata path is up to 10 names of letters, "
                                           "digits, '_' or '-'")
    document: Literal["meta", "custom"] = "custom" if head == "custom" else "meta"
    number = _number(value)
    if op in (">", ">=", "<", "<=") and number is None:
        raise QueryError.at_column(column, f"{head}.{rest}{op} compares numbers, not {value!r}")
    if head == "metrics" and number is None:
        raise QueryError.at_column(column, f"metrics are numbers, not {value!r}")
    return JsonCompare(document, path, op, value if number is None else number, column)


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _date(field: DateField, op: Comparison, value: str, column: int,
          now: datetime) -> DateCompare:
    """Dates are whole UTC days: ``created>2025-01-01`` starts on 2025-01-02, and
    ``created:2025-01-01`` is that day. ``last-30d`` is the last 30 days until ``now``."""
    relative = _RELATIVE.match(value)
    if relative:
        if op != "=":
            raise QueryError.at_column(column, f"{field}:{value} takes ':'")
        since = now - int(relative.group(1)) * _UNITS[relative.group(2)]
        return DateCompare(field, _iso(since), None, column)
    if op == "!=":
        raise QueryError.at_column(column, f"{field} takes ':', '<', '<=', '>' or '>='")
    start, end = _instant_range(value, column)
    ranges: dict[Comparison, tuple[datetime | None, datetime | None]] = {
        "=": (start, end), ">": (end, None), ">=": (start, None),
        "<": (None, start), "<=": (None, end),
    }
    since_at, before_at = ranges[op]
    return DateCompare(field, _iso_or_none(since_at), _iso_or_none(before_at), column)


def _instant_range(value: str, column: int) -> tuple[datetime, datetime]:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError.at_column(
            column, f"{value!r} is not a date: write 2025-01-01, 2025-01-01T12:00:00Z or last-30d"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if len(value) == 10:
        return parsed, parsed + timedelta(days=1)
    return parsed, parsed + timedelta(microseconds=1)


def _iso_or_none(instant: datetime | None) -> str | None:
    return None if instant is None else _iso(instant)


def _iso(instant: datetime) -> str:
    return instant.isoformat(timespec="microseconds").replace("+00:00", "Z")
