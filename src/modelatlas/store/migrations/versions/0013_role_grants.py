"""role grants: the roles namespaces grant to users, groups and tokens, and their policies

``role_grants`` holds one role per (namespace, principal type, principal name); namespace
``*`` is registry-wide. ``namespace_policies`` holds a namespace's attribute rules (protected
aliases, promoted-only reads below maintainer); a namespace without a row has the defaults.

Revision ID: 0013
Revises: 0012
Classification: safe (new, empty tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "role_grants",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("namespace", sa.String(64), nullable=False),
        sa.Column("principal_type", sa.String(16), nullable=False),
        sa.Column("principal_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grants")),
        sa.UniqueConstraint(
            "namespace", "principal_type", "principal_name",
            name=op.f("uq_role_grants_namespace_principal_type_principal_name")),
    )
    op.create_index("ix_role_grants_principal_type_principal_name", "role_grants",
                    ["principal_type", "principal_name"])
    op.create_table(
        "namespace_policies",
        sa.Column("namespace", sa.String(64), nullable=False),
        sa.Column("protected_aliases", JSONType, nullable=False),
        sa.Column("contributors_read_promoted_only", sa.Boolean, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("namespace", name=op.f("pk_namespace_policies")),
    )


def downgrade() -> None:
    op.drop_table("namespace_policies")
    op.drop_index("ix_role_grants_principal_type_principal_name", table_name="role_grants")
    op.drop_table("role_grants")
