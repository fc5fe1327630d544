"""Table aliases built once. ``table.alias(name)`` copies a proxy of every column (twenty
for ``assets``), and a search built several per query: a third of the Python time of a
graph predicate. Aliases are immutable, so one per name serves every statement."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.sql.selectable import NamedFromClause

from modelatlas.store.tables import metadata


@cache
def aliased(table: str, name: str) -> NamedFromClause[Any]:
    """The alias ``name`` of the table called ``table``."""
    return metadata.tables[table].alias(name)
