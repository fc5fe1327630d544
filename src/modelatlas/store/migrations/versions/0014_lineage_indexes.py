"""lineage indexes: relations (target_id, relation, source_id) replaces (target_id, relation)

A downstream walk steps from an asset to what used it (``target_id = X`` -> ``source_id``);
with ``source_id`` in the index that step reads only the index, not a table row per edge
(an upstream walk's step already reads only the unique index on ``(source_id, relation,
target_id)``). The old index is a prefix of the new one, so it goes: every query that used
it can use the new one, and writes keep one index to maintain, not two.

Revision ID: 0014
Revises: 0013
Classification: cautious (the index reads the whole ``relations`` table, about 12 s for
3M relations on SQLite; writes wait while it builds, on PostgreSQL too)
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain index operations, no batch: SQLite creates and drops indexes in place
    op.create_index("ix_relations_target_id_relation_source_id", "relations",
                    ["target_id", "relation", "source_id"], unique=False)
    op.drop_index("ix_relations_target_id_relation", table_name="relations")


def downgrade() -> None:
    op.create_index("ix_relations_target_id_relation", "relations", ["target_id", "relation"],
                    unique=False)
    op.drop_index("ix_relations_target_id_relation_source_id", table_name="relations")
