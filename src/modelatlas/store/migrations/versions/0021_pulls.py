"""pulls: who pulled an asset, one row a person, so a deprecation reaches their teams

Revision ID: 0021
Revises: 0020
Classification: safe (a new, empty table)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "asset_pulls",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("pulls", sa.Integer, nullable=False),
        sa.Column("last_pulled_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_asset_pulls_asset_id_assets")),
        sa.PrimaryKeyConstraint("asset_id", "person", name=op.f("pk_asset_pulls")),
    )


def downgrade() -> None:
    op.drop_table("asset_pulls")
