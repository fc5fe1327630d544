"""Statements compiled once per dialect (or per shape) and run on the driver's cursor.

SQLAlchemy's ``Connection.execute`` costs about 70 µs for a small cached statement on
this kind of machine (cache-key generation, parameter and result set-up, events); the
driver itself needs about 5 µs. A registration runs eight statements, so the hot write
path uses :class:`Prepared`: the SQL is still written with SQLAlchemy Core (one source of
truth, both dialects), compiled once per dialect and column set, and its bind processors
(JSON serialisation, casts rendered by the dialect) still apply. It runs inside the
caller's SQLAlchemy transaction, on the same DBAPI connection.

:func:`fetch_shaped` does the same for SELECTs built per call whose *shape* repeats (a
search page: the same query form with other values, another caller's read rule): it is
compiled once per SQLAlchemy cache key, and each call's values are bound from its own
cache key, as SQLAlchemy's statement cache pairs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from modelatlas.bounded import Bounded


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # bind names in order for qmark drivers (SQLite)
    processors: Mapping[str, Callable[[Any], Any]]
    literals: Mapping[str, Any]  # values the statement binds itself (``last + 1``)
    pairs: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # positional name, processor
    # set when values are rendered into the SQL at execution (expanding IN lists, such as
    # a read rule's namespaces in a search plan): bound by SQLAlchemy's own step for them
    rendered: _Shape | None = None

    def bound(self, given: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL of one execution and its parameters in the driver's style."""
        if self.rendered is not None:
            return _bound(self.rendered, self.rendered.compiled.construct_params(
                params=given, escape_names=False))
        return self.sql, self.params(given)

    def params(self, given: Mapping[str, Any]) -> Any:
        values = {**self.literals, **given} if self.literals else given
        if self.positional is not None:
            # a list comprehension over precomputed pairs: this runs once per row
            return [
                values[name] if proc is None else proc(values[name])
                for name, proc in self.pairs
            ]
        return _processed(values, self.processors)


class Prepared:
    """One Core statement, run with plain dicts of parameters on the raw cursor.

    For an INSERT without ``.values()``, the columns are those of the parameter dicts
    (compiled once per distinct set of keys). Results come back as DBAPI tuples, so use it
    for statements whose results need no type processing (ids, counters, a search plan's
    page on SQLite, whose JSON columns are decoded by the caller). A parameter the dicts do
    not name keeps the statement's own value.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _for(self, conn: Connection, keys: tuple[str, ...]) -> _Compiled:
        cache_key = (conn.dialect.name, keys)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            sa_compiled = cast(
                SQLCompiler,
                self.statement.compile(dialect=conn.dialect, column_keys=list(keys)),
            )
            positional = sa_compiled.positiontup
            literals = {
                name: bind.effective_value
                for name, bind in sa_compiled.binds.items()
                if name not in keys and not bind.required and bind.effective_value is not None
            }
            names = tuple(positional) if positional is not None else None
            processors = _processors(sa_compiled._bind_processors)
            rendered = (_Shape(sa_compiled, names, processors, expanding=True)
                        if sa_compiled.post_compile_params
                        or sa_compiled.literal_execute_params else None)
            compiled = _Compiled(
                sql=sa_compiled.string,
                positional=names,
                processors=processors,
                literals=literals,
                pairs=tuple((name, processors.get(name)) for name in names or ()),
                rendered=rendered,
            )
            self._compiled[cache_key] = compiled
        return compiled

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        sql, params = self._for(conn, tuple(values)).bound(values)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        _run(conn, cursor.execute, sql, params)
        return cursor

    def scalar(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        cursor = self.execute(conn, values)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else row[0]

    def all(self, conn: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Every row, as the driver's tuples."""
        return _fetched(conn, *self._for(conn, tuple(values)).bound(values))

    def changed(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Run the statement; how many rows it changed."""
        cursor = self.execute(conn, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._for(conn, tuple(rows[0]))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            _run(conn, cursor.executemany, compiled.sql, [compiled.params(row) for row in rows])
        finally:
            cursor.close()

    def insert_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Like :meth:`executemany` for an INSERT; on SQLite as one multi-row ``VALUES``
        statement per :data:`ROWS_PER_INSERT` rows. ``executemany`` runs the statement
        once per row, and each run of an insert into a table with triggers or foreign
        keys opens its own statement journal and trigger frames: for the relations table
        (two triggers, two foreign keys) that was half of a row's cost. psycopg pipelines
        ``executemany`` already, so PostgreSQL keeps it."""
        if not rows:
            return
        compiled = self._for(conn, tuple(rows[0]))
        head, values, group = compiled.sql.rpartition(" VALUES ")
        if conn.dialect.name != "sqlite" or not values or not group.endswith(")"):
            self.executemany(conn, rows)
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for sql, params in multi_row_inserts(head, group, list(map(compiled.params, rows))):
                _run(conn, cursor.execute, sql, params)
        finally:
            cursor.close()


def _processed(values: Mapping[str, Any],
               procs: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """Named parameters with their bind processors applied (as SQLAlchemy applies them)."""
    return {name: procs[name](value) if name in procs else value
            for name, value in values.items()}


def _run(conn: Connection, method: Callable[[str, Any], Any], sql: str, params: Any) -> None:
    """``method`` (a driver cursor's ``execute`` or ``executemany``) on ``sql``, its error
    raised as SQLAlchemy's (see :func:`_as_sqlalchemy_error`)."""
    try:
        method(sql, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _as_sqlalchemy_error(sql, params, exc, conn) from exc


def _processors(found: Mapping[str, Any]) -> dict[str, Callable[[Any], Any]]:
    # a sequence only for tuple binds, which we never use
    return {name: proc for name, proc in found.items() if callable(proc)}


@dataclass(frozen=True)
class _Shape:
    """A SELECT's shape compiled for one dialect: the order of its parameters (None: named,
    for psycopg), their bind processors, and whether values are rendered into its SQL at
    execution (expanding IN lists, such as a read rule's namespaces)."""

    compiled: SQLCompiler
    positional: tuple[str, ...] | None
    processors: dict[str, Callable[[Any], Any]]
    expanding: bool


# Shapes seen: one per query form, sort, read rule and cursor-or-not for search pages
_SHAPES: Bounded[_Shape] = Bounded(256)


def fetch_shaped(conn: Connection, stmt: sa.Select[Any]) -> list[Any]:
    """Every row of ``stmt`` as the driver's tuples (no result processing: JSON columns are
    their stored text on SQLite). The cache key names the SQL and every value's place, so
    two statements of one shape differ only in the values bound here."""
    key = stmt._generate_cache_key()
    if key is None:  # a construct SQLAlchemy cannot cache: it runs the statement
        return list(conn.execute(stmt).all())
    shape = _SHAPES.get((conn.dialect.name, key.key))
    if shape is None:
        shape = _compiled_shape(conn, stmt, key)
        _SHAPES.put((conn.dialect.name, key.key), shape)
    return _fetched(conn, *_bound(shape, shape.compiled.construct_params(
        extracted_parameters=key.bindparams, escape_names=False)))


def json_as_text(conn: Connection) -> bool:
    """Whether the driver's cursor returns JSON columns as their stored text, to decode:
    SQLite's driver does; psycopg decodes JSONB itself."""
    return conn.dialect.name == "sqlite"


def driver_json(conn: Connection, value: Any) -> Any:
    """A JSON column's value as the driver's cursor returns it, decoded (see
    :func:`json_as_text`). None stays None."""
    if value is None or not json_as_text(conn):
        return value
    return orjson.loads(value)


def _fetched(conn: Connection, sql: str, params: Any) -> list[Any]:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        _run(conn, cursor.execute, sql, params)
        return cast(list[Any], cursor.fetchall())
    finally:
        cursor.close()


def _compiled_shape(conn: Connection, stmt: sa.Select[Any], key: Any) -> _Shape:
    compiled = stmt.compile(dialect=conn.dialect, cache_key=key)
    positional = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
    return _Shape(compiled, positional, _processors(compiled._bind_processors), expanding)


def _bound(shape: _Shape, values: Mapping[str, Any]) -> tuple[str, Any]:
    """The SQL to run and its parameters in the driver's style, processed as SQLAlchemy
    would (expanding lists rendered by SQLAlchemy's own step for them)."""
    sql, positional, procs = shape.compiled.string, shape.positional, shape.processors
    if shape.expanding:
        state = shape.compiled._process_parameters_for_postcompile(dict(values))
        sql, values = state.statement, state.parameters
        procs = _processors(state.processors)
        positional = tuple(state.positiontup) if state.positiontup is not None else None
    done = _processed(values, procs)
    if positional is not None:
        return sql, [done[name] for name in positional]
    escaped = shape.compiled.escaped_bind_names
    return sql, ({escaped.get(name, name): value for name, value in done.items()}
                 if escaped else done)


# Rows per multi-row INSERT: a few thousand bound values, far below SQLite's limit
# (32,766 variables) for the widest table (assets, 19 columns).
ROWS_PER_INSERT = 500


def multi_row_inserts(head: str, group: str, rows: Sequence[Sequence[Any]]
                      ) -> Iterator[tuple[str, list[Any]]]:
    """``(sql, params)`` of the SQLite statements inserting ``rows`` (values in the order
    of ``group``, e.g. ``"(?, ?, ?)"``), :data:`ROWS_PER_INSERT` rows per ``head VALUES
    group, group, ...``: for any insert that runs on the raw cursor."""
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start:start + ROWS_PER_INSERT]
        yield _multi_row_sql(head, group, len(chunk)), [v for row in chunk for v in row]


@lru_cache(maxsize=64)
def _multi_row_sql(head: str, group: str, count: int) -> str:
    return f"{head} VALUES {', '.join([group] * count)}"


def _as_sqlalchemy_error(sql: str, params: Any, exc: Exception, conn: Connection) -> Exception:
    """The driver's error as SQLAlchemy's (``IntegrityError`` ...), as ``execute`` would
    raise it, so callers handle one family of exceptions whichever path ran the statement.
    (:func:`_run` is a plain ``try`` rather than a context manager: entering and leaving
    one cost as much as a small statement on the driver.)"""
    dbapi = conn.dialect.loaded_dbapi
    return cast(Exception, DBAPIError.instance(sql, params, exc, dbapi.Error))
