"""The JSON expressions that differ between SQLite and PostgreSQL, behind one Protocol.

Paths arrive as tuples of names the parser checked (letters, digits, '_', '-'); they are
still passed as bound parameters, never written into SQL text.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause


class JsonFunctions(Protocol):
    """Expressions over a JSON column of ``assets``. Each is usable in WHERE, ORDER BY and
    GROUP BY. Invariant: a value of another JSON type (or a missing path) gives NULL, never
    a database error, so ``meta.framework>3`` on a text field matches nothing."""

    def text(self, column: Any, path: tuple[str, ...]) -> ColumnElement[Any]:
        """The value at ``path`` as text: strings as is, numbers in decimal, booleans as
        ``true``/``false``; NULL for objects, arrays and missing paths."""
        ...

    def number(self, column: Any, path: tuple[str, ...]) -> ColumnElement[Any]:
        """The value at ``path`` as a float when it is a JSON number, else NULL."""
        ...

    def contains(self, column: Any, value: str) -> ColumnElement[bool]:
        """The JSON array in ``column`` holds the string ``value`` (owners)."""
        ...

    def elements(self, column: Any) -> FromClause:
        """A table of the array's string elements (column ``value``), joinable laterally
        for GROUP BY (the owner facet)."""
        ...

    def text_elements(self, column: Any) -> FromClause:
        """The elements of the JSON array held as text in ``column`` (a set of run inputs,
        migration 0025), as a table of ``value``, joinable laterally."""
        ...


class SQLiteJson:
    @staticmethod
    def _path(path: tuple[str, ...]) -> Any:
        return sa.bindparam(None, "$" + "".join(f'."{part}"' for part in path), sa.String)

    # ``CASE json_type(...) WHEN ...`` (the simple form) parses the document once for the
    # type; the searched form (``CASE WHEN json_type(...) = ...``) parsed it once per WHEN,
    # which was most of the cost of a JSON facet over thousands of hits.
    def text(self, column: Any, path: tuple[str, ...]) -> ColumnElement[Any]:
        value = sa.cast(sa.func.json_extract(column, self._path(path)), sa.Text)
        return sa.case({"true": "true", "false": "false", "text": value, "integer": value,
                        "real": value}, value=sa.func.json_type(column, self._path(path)),
                       else_=sa.null())

    def number(self, column: Any, path: tuple[str, ...]) -> ColumnElement[Any]:
        value = sa.cast(sa.func.json_extract(column, self._path(path)), sa.Float)
        return sa.case({"integer": value, "real": value},
                       value=sa.func.json_type(column, self._path(path)), else_=sa.null())

    def contains(self, column: Any, value: str) -> ColumnElement[bool]:
        each = sa.func.json_each(column).table_valued("value")
        return sa.exists(sa.select(sa.literal(1)).select_from(each)
                         .where(each.c.value == sa.bindparam(None, value, sa.String)))

    def elements(self, column: Any) -> FromClause:
        return sa.func.json_each(column).table_valued("value")

    def text_elements(self, column: Any) -> FromClause:
        return self.elements(column)


class PostgreSQLJson:
    @staticmethod
    def _path(path: tuple[str, ...]) -> Any:
        return sa.bindparam(None, list(path), postgresql.ARRAY(sa.Text))

    def text(self, column: Any, path: tuple[str, ...]) -> ColumnElement[Any]:
        node = column.op("#>", return_type=postgresql.JSONB)(self._path(path))
        kind = sa.func.jsonb_typeof(node)
        return sa.case(
            (kind.in_(["string", "number", "boolean"]),
             column.op("#>>", return_type=sa.Text)(self._path(path))),
            else_=sa.null(),
        )

    def number(self, column: Any, path: tuple[str, ...]) -> ColumnElement[Any]:
        node = column.op("#>", return_type=postgresql.JSONB)(self._path(path))
        text = column.op("#>>", return_type=sa.Text)(self._path(path))
        return sa.case((sa.func.jsonb_typeof(node) == "number", sa.cast(text, sa.Float)),
                       else_=sa.null())

    def contains(self, column: Any, value: str) -> ColumnElement[bool]:
        wanted = sa.func.jsonb_build_array(sa.bindparam(None, value, sa.Text))
        contains: ColumnElement[bool] = column.op("@>", return_type=sa.Boolean)(wanted)
        return contains

    def elements(self, column: Any) -> FromClause:
        return sa.func.jsonb_array_elements_text(column).table_valued("value").lateral()

    def text_elements(self, column: Any) -> FromClause:
        return self.elements(sa.cast(column, postgresql.JSONB))


def json_functions(dialect: str) -> JsonFunctions:
    return PostgreSQLJson() if dialect == "postgresql" else SQLiteJson()
