"""lifecycle: namespaces' promotion policies, and the reviews of model versions

``promotion_policies`` holds what promoting a model version to production needs in a
namespace (approvals, a passing evaluation, a verified attestation, a clean dependency
check); a namespace without a row needs nothing. ``reviews`` records approvals, rejections,
comments, release notes and promotion requests, each bound to the version's manifest root
digest at the time (``closed_at``: a request that a stage change answered).

Revision ID: 0015
Revises: 0014
Classification: safe (new, empty tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "promotion_policies",
        sa.Column("namespace", sa.String(64), nullable=False),
        sa.Column("required_approvals", sa.Integer, nullable=False, server_default="0"),
        sa.Column("require_passing_evaluation", sa.Boolean, nullable=False),
        sa.Column("require_verified_attestation", sa.Boolean, nullable=False),
        sa.Column("require_clean_deps", sa.Boolean, nullable=False),
        sa.Column("deps_target", sa.String(500), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("namespace", name=op.f("pk_promotion_policies")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("manifest_sha256", sa.String(64), nullable=True),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("closed_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_reviews_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index("ix_reviews_asset_id_kind", "reviews", ["asset_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_reviews_asset_id_kind", table_name="reviews")
    op.drop_table("reviews")
    op.drop_table("promotion_policies")
