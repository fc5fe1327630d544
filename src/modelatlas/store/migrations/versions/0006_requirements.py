"""requirements: what model versions need to run, and revalidation marks

Revision ID: 0006
Revises: 0005
Classification: safe (two new tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "requirements",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("specifier", sa.String(length=1000), nullable=False),
        sa.Column("extras", JSONType, nullable=False),
        sa.Column("marker", sa.String(length=1000), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("hashes", JSONType, nullable=False),
        sa.Column("origin_file", sa.String(length=500), nullable=False),
        sa.Column("origin_line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_requirements_asset_id_assets")),
        sa.PrimaryKeyConstraint("asset_id", "position", name=op.f("pk_requirements")),
    )
    # (type, name, specifier): impact and search read the distinct specifiers of one
    # package, then the versions that declared the ones that matter, from the index alone
    op.create_index("ix_requirements_type_name_specifier_asset_id", "requirements",
                    ["type", "name", "specifier", "asset_id"])
    op.create_table(
        "revalidation_marks",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("cause_ref", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("marked_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_revalidation_marks_asset_id_assets")),
        sa.PrimaryKeyConstraint("asset_id", "cause_ref", name=op.f("pk_revalidation_marks")),
    )
    op.create_index("ix_revalidation_marks_cause_ref", "revalidation_marks", ["cause_ref"])


def downgrade() -> None:
    op.drop_index("ix_revalidation_marks_cause_ref", table_name="revalidation_marks")
    op.drop_table("revalidation_marks")
    op.drop_index("ix_requirements_type_name_specifier_asset_id", table_name="requirements")
    op.drop_table("requirements")
