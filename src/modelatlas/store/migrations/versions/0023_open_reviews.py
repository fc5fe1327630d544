"""approvals inbox: reviews (kind, closed_at, id)

The inbox lists open promotion requests (``kind = 'request' AND closed_at IS NULL``),
newest first; with only ``(asset_id, kind)`` indexed, it read every review ever written
to find the few open ones. This index answers it in ``id`` order from the open requests
alone, as the cursor pages.

Revision ID: 0023
Revises: 0022
Classification: safe (the reviews table is small: one row per approval, comment, note)
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reviews_kind_closed_at_id", "reviews", ["kind", "closed_at", "id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_reviews_kind_closed_at_id", table_name="reviews")
