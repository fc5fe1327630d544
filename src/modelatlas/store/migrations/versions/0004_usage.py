"""usage: learned weights of assets and terms for suggestions, and an index on asset names

Revision ID: 0004
Revises: 0003
Classification: cautious (two new tables, but the index on ``assets.name`` reads the whole
``assets`` table; PostgreSQL blocks writes to it while the index builds)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "asset_usage",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("touched_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_usage_asset_id_assets")
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_asset_usage")),
    )
    op.create_table(
        "term_usage",
        sa.Column("term", sa.String(length=300), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("touched_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_term_usage")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_name", ["name"], unique=False)
