"""name completion: assets (name, kind, namespace, id) replaces (name)

Completing a bare name (``model-12`` -> ``model-12``, ``model-120`` ...) reads up to 200
assets in name order and needs each one's kind and namespace; with only ``name`` in the
index, each candidate cost a lookup of its table row (rows that carry the metadata
documents, so scattered across the file): about 1 ms of a 2 ms keystroke at 1M assets.
With kind, namespace and id in the index the completion reads only the index. The old
index is a prefix of the new one, so it goes: every query that used it can use this one.

Revision ID: 0022
Revises: 0021
Classification: cautious (the index reads the whole ``assets`` table, about 10 s for 2M
assets on SQLite; writes wait while it builds, on PostgreSQL too)
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain index operations, no batch: SQLite creates and drops indexes in place
    op.create_index("ix_assets_name_kind_namespace_id", "assets",
                    ["name", "kind", "namespace", "id"], unique=False)
    op.drop_index("ix_assets_name", table_name="assets")


def downgrade() -> None:
    op.create_index("ix_assets_name", "assets", ["name"], unique=False)
    op.drop_index("ix_assets_name_kind_namespace_id", table_name="assets")
