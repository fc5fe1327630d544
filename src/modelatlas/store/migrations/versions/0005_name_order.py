"""name order: an index on assets (kind, name, id)

Name prefixes within a kind (``kind:model name:churn*``) and ``sort=name`` pages read a
range of it instead of every asset of the kind.

Revision ID: 0005
Revises: 0004
Classification: cautious (the index reads the whole ``assets`` table; PostgreSQL blocks
writes to it while the index builds)
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_kind_name_id", ["kind", "name", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_kind_name_id")
