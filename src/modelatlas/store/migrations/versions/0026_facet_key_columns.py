"""facet key columns: each facet key's values as text columns beside its JSON array

A filtered five-facet search at 1M versions groups its ~10k hits by facet key (0025), then
splits the ~1.5k distinct keys into per-facet counts. Reading a facet's value out of the
key's JSON array (``json_extract``, three calls per key and facet in SQLite: select, filter
and group) was about a quarter of the counting statement. ``facet_key_values`` now also
holds each array element as a text column, ``value_<position>`` (position as in
``facet_keys``), which the counting reads and groups directly.

The columns are filled from ``key`` by the database whenever a key is added (a trigger on
``facet_key_values``, whoever inserts: the asset triggers of 0025 need no change), and
backfilled here. A position without a column (a facet added by a later migration) is
counted from the asset rows until that migration adds its column.

Revision ID: 0026
Revises: 0025
Classification: safe (adds nullable columns; the backfill touches only the distinct keys,
~85k rows at 1M versions)
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# the positions 0025 writes into a key (its KEYED list): one column each
POSITIONS = 7
COLUMNS = [f"value_{position}" for position in range(POSITIONS)]


def _run(statement: str) -> None:
    op.get_bind().exec_driver_sql(statement)


def _element(key: str, position: int, *, postgresql: bool) -> str:
    """Element ``position`` of the key's JSON array of text (or null), as text: what
    search/dialects.py read from the key before this revision."""
    if postgresql:
        return f"(CAST({key} AS json) ->> {position})"
    return f"json_extract({key}, '$[{position}]')"


def _assignments(key: str, *, postgresql: bool) -> str:
    return ", ".join(f"{column} = {_element(key, position, postgresql=postgresql)}"
                     for position, column in enumerate(COLUMNS))


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for column in COLUMNS:
        _run(f"ALTER TABLE facet_key_values ADD COLUMN {column} TEXT")
    _run(f"UPDATE facet_key_values SET {_assignments('key', postgresql=postgresql)}")
    if postgresql:
        # BEFORE INSERT: the row is written once, with its columns
        sets = "; ".join(
            f"NEW.{column} := {_element('NEW.key', position, postgresql=True)}"
            for position, column in enumerate(COLUMNS))
        _run(f"""
            CREATE FUNCTION modelatlas_facet_key_columns() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                {sets};
                RETURN NEW;
            END $$""")
        _run("""
            CREATE TRIGGER facet_key_values_columns BEFORE INSERT ON facet_key_values
            FOR EACH ROW EXECUTE FUNCTION modelatlas_facet_key_columns()""")
    else:
        # SQLite's triggers cannot change NEW: the new row is updated after its insert (a
        # new key is rare: most asset writes find theirs)
        _run(f"""
            CREATE TRIGGER facet_key_values_columns AFTER INSERT ON facet_key_values BEGIN
                UPDATE facet_key_values SET {_assignments('new.key', postgresql=False)}
                WHERE id = new.id;
            END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run("DROP TRIGGER facet_key_values_columns ON facet_key_values")
        _run("DROP FUNCTION modelatlas_facet_key_columns()")
    else:
        _run("DROP TRIGGER facet_key_values_columns")
    for column in COLUMNS:  # SQLite drops a column since 3.35
        _run(f"ALTER TABLE facet_key_values DROP COLUMN {column}")
