"""Sort orders and their keyset cursors. Every order ends on the asset id, so it is total
and a cursor (the last row's key values) says exactly where the next page starts: page 50
costs what page 1 costs, unlike OFFSET."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.errors import FieldError, InvalidInput
from modelatlas.search._aliases import aliased
from modelatlas.store.tables import assets

SORTS = ("relevance", "created", "-created", "updated", "-updated", "name", "-name",
         "metrics.<name>", "-metrics.<name>")
_METRIC = re.compile(r"^(-?)metrics\.([A-Za-z0-9_-]{1,100})$")


_TYPES: dict[type, Any] = {int: sa.BigInteger, float: sa.Float, str: sa.String}


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement[Any]
    descending: bool
    type: type = int
    # a table the key reads, outer-joined to ``assets`` on the condition (a metric's row)
    joins: tuple[Any, ColumnElement[bool]] | None = None

    def bind(self, value: Any, name: str | None = None) -> Any:
        return sa.bindparam(name, value, _TYPES[self.type])

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.type is float:
            return isinstance(value, int | float) and math.isfinite(value)
        if self.type is int:
            return isinstance(value, int) and -(2**63) <= value < 2**63
        return isinstance(value, str) and len(value) <= 1000


def sort_keys(sort: str, rank: Any | None) -> list[SortKey]:
    """The ORDER BY of ``sort``. ``rank`` is the relevance column when the query has free
    text; without it, relevance is the order of registration (id)."""
    by_id = SortKey(assets.c.id, False)
    simple = {"created": assets.c.created_at, "updated": assets.c.updated_at,
              "name": assets.c.name}
    field = sort.removeprefix("-")
    if sort == "relevance":
        return [SortKey(rank, False, float), by_id] if rank is not None else [by_id]
    if field in simple:
        descending = sort.startswith("-")
        return [SortKey(simple[field], descending, str), SortKey(assets.c.id, descending)]
    metric = _METRIC.match(sort)
    if metric:
        # the metric's row (kept from metadata by the database, migration 0007): a column
        # read once per asset, where the JSON path was parsed again by every use of the
        # value in the order and in a cursor page's keyset (page 50 cost 1.6x page 1)
        row = aliased("asset_metrics", "sort_metric")
        joins = (row, sa.and_(row.c.asset_id == assets.c.id,
                              row.c.name == sa.bindparam(None, metric.group(2), sa.String)))
        value = row.c.value
        # assets without the metric come last in either direction
        missing = sa.case((value.is_(None), 1), else_=0)
        return [SortKey(missing, False, int, joins),
                SortKey(sa.func.coalesce(value, 0.0), metric.group(1) == "-", float, joins),
                by_id]
    raise InvalidInput.at("/sort", f"one of {', '.join(SORTS)}")


def order_by(keys: list[SortKey], labels: list[str]) -> list[Any]:
    return [sa.desc(sa.literal_column(label)) if key.descending else sa.literal_column(label)
            for key, label in zip(keys, labels, strict=True)]


def after(keys: list[SortKey], values: list[Any], *, named: bool = False) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys`` (lexicographic). ``named``
    binds the i-th value as :func:`cursor_name` (a plan's statement, search/engine.py)."""
    binds = [key.bind(value, cursor_name(i) if named else None)
             for i, (key, value) in enumerate(zip(keys, values, strict=True))]
    alternatives = []
    for index, key in enumerate(keys):
        equal = [k.expr == b for k, b in zip(keys[:index], binds[:index], strict=True)]
        bound = binds[index]
        beyond = key.expr < bound if key.descending else key.expr > bound
        alternatives.append(sa.and_(*equal, beyond))
    if len(keys) == 1:
        return alternatives[0]
    # The first key's bound again, outside the OR: the planner starts the index range
    # there. Inside the OR alone, SQLite derives it only from literal values, never from
    # bound ones, and scanned the order from its first row: page 50 cost 50 pages.
    first = keys[0]
    start = first.expr <= binds[0] if first.descending else first.expr >= binds[0]
    return sa.and_(start, sa.or_(*alternatives))


def cursor_name(index: int) -> str:
    """The name a plan binds a cursor's ``index``-th value under."""
    return f"cursor_{index}"


def encode_cursor(sort: str, query: str, values: list[Any]) -> str:
    text = json.dumps([sort, _fingerprint(query), values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, query: str, keys: list[SortKey]) -> list[Any]:
    """The key values a cursor carries; refused when it was issued for another query or
    order, or was not issued by us."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        issued_sort, fingerprint, values = decoded
        valid = (issued_sort == sort and fingerprint == _fingerprint(query)
                 and isinstance(values, list) and len(values) == len(keys)
                 and all(key.accepts(v) for key, v in zip(keys, values, strict=True)))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidInput(
            "cursor is not one this search issued; start again without it",
            errors=[FieldError("/cursor", "unknown cursor, or one for another query or sort")],
        )
    return list(values)


def _fingerprint(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def row_values(row: Mapping[str, Any], labels: list[str]) -> list[Any]:
    """The sort values of a row (by label), as a cursor holds them."""
    return [_plain(row[label]) for label in labels]


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return float(value)  # Decimal from a driver
