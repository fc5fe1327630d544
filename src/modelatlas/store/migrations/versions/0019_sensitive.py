"""sensitive: the fields a namespace marks sensitive, and their values sealed (AES-GCM)

``sensitive_fields`` holds, per namespace and kind, the field paths whose values are kept
out of the asset's row (``metadata.location``, ``custom.contact``). ``sensitive_values``
holds those values encrypted, one row per asset and field, with the id of the key that
sealed it (a key rotation re-encrypts rows batch by batch; the index on ``key_id`` finds
the rows still on an old key).

Revision ID: 0019
Revises: 0018
Classification: safe (new, empty tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "sensitive_fields",
        sa.Column("namespace", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("fields", JSONType, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "kind", name=op.f("pk_sensitive_fields")),
    )
    op.create_table(
        "sensitive_values",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_sensitive_values_asset_id_assets")),
        sa.PrimaryKeyConstraint("asset_id", "field", name=op.f("pk_sensitive_values")),
    )
    op.create_index("ix_sensitive_values_key_id_asset_id_field", "sensitive_values",
                    ["key_id", "asset_id", "field"])


def downgrade() -> None:
    op.drop_index("ix_sensitive_values_key_id_asset_id_field", table_name="sensitive_values")
    op.drop_table("sensitive_values")
    op.drop_table("sensitive_fields")
