"""artifacts: stored_artifacts, the artifact bytes uploaded for a model version

One row per (model version, artifact name): the SHA-256 and size of the bytes uploaded for
it, when and by whom. The bytes are files under MODELATLAS_ARTIFACT_DIR named by digest.

Revision ID: 0020
Revises: 0019
Classification: safe (new, empty table)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "stored_artifacts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("stored_at", Timestamp, nullable=False),
        sa.Column("stored_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_stored_artifacts_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_artifacts")),
        sa.UniqueConstraint("asset_id", "name", name=op.f("uq_stored_artifacts_asset_id_name")),
    )
    op.create_index("ix_stored_artifacts_sha256", "stored_artifacts", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_stored_artifacts_sha256", table_name="stored_artifacts")
    op.drop_table("stored_artifacts")
