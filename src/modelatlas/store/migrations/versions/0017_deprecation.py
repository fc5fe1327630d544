"""deprecation: a model version's deprecation plan (sunset, reason, replacement)

``deprecations`` holds one row per deprecated model version: when it was first announced
and by whom, when the plan last changed, the sunset (when it stops being supported), why,
the replacement version (optional) and the consumers the announcement found, counted by
kind. A withdrawn plan deletes its row (the events keep the history). The index on
``(sunset_at, asset_id)`` serves the report of deployments still serving deprecated
versions, ordered by sunset.

Revision ID: 0017
Revises: 0016
Classification: safe (a new, empty table)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "deprecations",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("announced_at", Timestamp, nullable=False),
        sa.Column("announced_by", sa.String(200), nullable=False),
        sa.Column("changed_at", Timestamp, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("sunset_at", Timestamp, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("replacement_id", BigId, nullable=True),
        sa.Column("consumers", JSONType, nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_deprecations_asset_id_assets")),
        sa.ForeignKeyConstraint(["replacement_id"], ["assets.id"],
                                name=op.f("fk_deprecations_replacement_id_assets")),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_deprecations")),
    )
    op.create_index("ix_deprecations_sunset_at_asset_id", "deprecations",
                    ["sunset_at", "asset_id"])


def downgrade() -> None:
    op.drop_index("ix_deprecations_sunset_at_asset_id", table_name="deprecations")
    op.drop_table("deprecations")
