"""Run the Alembic migrations shipped inside the package (forward-only)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from modelatlas.store.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache  # the shipped scripts do not change while a process runs; reading them costs ~80 ms
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.writer.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> None:
    """Bring the database to the newest schema; safe to call from several processes."""
    if current_revision(db) == head_revision():
        return
    cfg = alembic_config()
    with db.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
