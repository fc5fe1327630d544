"""aliases and lineage changes: named pointers to model versions, and requested changes to
the lineage of versions in production

``model_aliases`` holds one row per (model, alias): the version it points at, who set it
and when. ``lineage_changes`` holds each requested addition or removal of a lineage edge
that touches a model version in production: pending until a second maintainer approves
(the edge is written then) or rejects it.

Revision ID: 0016
Revises: 0015
Classification: safe (new, empty tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "model_aliases",
        sa.Column("model_id", BigId, nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version_id", BigId, nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["assets.id"],
                                name=op.f("fk_model_aliases_model_id_assets")),
        sa.ForeignKeyConstraint(["version_id"], ["assets.id"],
                                name=op.f("fk_model_aliases_version_id_assets")),
        sa.PrimaryKeyConstraint("model_id", "alias", name=op.f("pk_model_aliases")),
    )
    op.create_index("ix_model_aliases_version_id", "model_aliases", ["version_id"])
    op.create_table(
        "lineage_changes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("source_id", BigId, nullable=False),
        sa.Column("relation", sa.String(32), nullable=False),
        sa.Column("target_id", BigId, nullable=False),
        sa.Column("properties", JSONType, nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", Timestamp, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", Timestamp, nullable=True),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_lineage_changes_asset_id_assets")),
        sa.ForeignKeyConstraint(["source_id"], ["assets.id"],
                                name=op.f("fk_lineage_changes_source_id_assets")),
        sa.ForeignKeyConstraint(["target_id"], ["assets.id"],
                                name=op.f("fk_lineage_changes_target_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_changes")),
    )
    op.create_index("ix_lineage_changes_status_id", "lineage_changes", ["status", "id"])
    op.create_index("ix_lineage_changes_asset_id_id", "lineage_changes", ["asset_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_lineage_changes_asset_id_id", table_name="lineage_changes")
    op.drop_index("ix_lineage_changes_status_id", table_name="lineage_changes")
    op.drop_table("lineage_changes")
    op.drop_index("ix_model_aliases_version_id", table_name="model_aliases")
    op.drop_table("model_aliases")
