"""Temporary registries for tests, ours and users'.

``temporary_registry()`` gives a fresh registry on SQLite in a temporary folder, or on a
fresh PostgreSQL database cloned from a migrated template when given a server URL, so each
test starts empty and tests can run in parallel.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from modelatlas.config import Settings
from modelatlas.registry import Registry
from modelatlas.store.engine import Database
from modelatlas.store.migrate import upgrade

_counter = itertools.count()


class PostgresDatabases:
    """Creates databases on one PostgreSQL server, each a copy of a migrated template."""

    def __init__(self, server_url: str) -> None:
        self.server_url = sa.make_url(server_url)
        self._admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.template = f"ma_tpl_{uuid.uuid4().hex[:10]}"
        self._created: list[str] = []
        with self._admin.connect() as conn:
            version = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
        # PostgreSQL 15 copies a template block by block through the WAL by default: over a
        # second for each small test database. A file copy (two checkpoints, cheap on a
        # throwaway cluster) takes about a tenth of that.
        self._strategy = " STRATEGY = FILE_COPY" if version >= 150000 else ""
        self._exec(f'CREATE DATABASE "{self.template}"')
        db = Database(self.url_for(self.template))
        upgrade(db)
        db.dispose()

    def _exec(self, statement: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(sa.text(statement))

    def url_for(self, database: str) -> str:
        return self.server_url.set(database=database).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """A new database copied from ``template`` (the name of a database nobody is
        connected to), by default the migrated, empty one."""
        name = f"ma_t_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{template or self.template}"'
                   f"{self._strategy}")
        self._created.append(name)
        return self.url_for(name)

    def replace(self, url: str, template: str) -> None:
        """Make the database at ``url`` a fresh copy of ``template``, under the same name
        (whoever created it still drops it)."""
        name = sa.make_url(url).database
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{self._strategy}')

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self._created:
            self._created.remove(name)

    def close(self) -> None:
        for name in [*self._created, self.template]:
            self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.dispose()


@contextmanager
def temporary_registry(
    database_url: str | None = None, *, home: Path | None = None, **settings: Any
) -> Iterator[Registry]:
    """A registry that lives for the ``with`` block. Without ``database_url``: SQLite."""
    with tempfile.TemporaryDirectory(prefix="modelatlas-") as tmp:
        config = Settings(home=home or Path(tmp), database_url=database_url, **settings)
        registry = Registry.open(config)
        try:
            yield registry
        finally:
            registry.close()
