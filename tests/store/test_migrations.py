"""The Alembic migrations build exactly the schema that ``store/tables.py`` declares."""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from modelatlas.store.engine import Database
from modelatlas.store.migrate import current_revision, head_revision, upgrade
from modelatlas.store.tables import metadata

HOW_TO_FIX = """
The database the migrations build differs from modelatlas.store.tables.metadata:
{diff}
Fix: never edit a released migration. Add the next numbered one,
src/modelatlas/store/migrations/versions/NNNN_what_it_does.py (down_revision = the current
head, "Classification: safe | cautious | breaking" in its docstring), that makes the change,
e.g. with `alembic revision --autogenerate` against a migrated database as a starting point.
"""


def _unquoted(default: str | None) -> str | None:
    """SQLite reflects ``''`` as ``('')``; Alembic's own comparison misses that the two are
    the same empty string, so strip the parentheses and quotes before comparing."""
    if default is None:
        return None
    default = re.sub(r"^\((.*)\)$", r"\1", default)
    return re.sub(r"^'(.*)'$", r"\1", default)


def _compare_default(
    ctx: Any, _insp_col: Any, _meta_col: Any, insp_default: str | None,
    _meta_default: Any, rendered_meta_default: str | None,
) -> bool | None:
    if ctx.dialect.name != "sqlite" or insp_default is None or rendered_meta_default is None:
        return None  # let Alembic decide
    return _unquoted(insp_default) != _unquoted(rendered_meta_default)


# The full text index (migration 0003) lives outside the shared metadata: an FTS5 virtual
# table with its shadow tables on SQLite, a generated tsvector column and its GIN index on
# PostgreSQL. SQLAlchemy cannot declare either portably, and no code selects them as tables.
FULLTEXT_TABLES = re.compile(r"^assets_fts(_\w+)?$")
FULLTEXT_OBJECTS = {("column", "search_document"), ("index", "ix_assets_search_document")}


def _include_name(name: str | None, type_: str, _parents: Any) -> bool:
    return not (type_ == "table" and name is not None and FULLTEXT_TABLES.match(name))


def _include_object(_obj: Any, name: str | None, type_: str, _reflected: bool, _other: Any) -> bool:
    return (type_, name) not in FULLTEXT_OBJECTS


def test_migrations_build_the_declared_schema(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.writer.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={
                    "compare_type": True,
                    "compare_server_default": _compare_default,
                    "include_name": _include_name,
                    "include_object": _include_object,
                },
            )
            diff = compare_metadata(ctx, metadata)
    finally:
        db.dispose()
    assert not diff, HOW_TO_FIX.format(diff="\n".join(f"  {d!r}" for d in diff))


def test_upgrading_twice_is_harmless(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db)
        upgrade(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
