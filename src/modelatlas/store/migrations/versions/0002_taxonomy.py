"""taxonomy: the controlled vocabulary of semantic tags (terms, hierarchy, synonyms)

Revision ID: 0002
Revises: 0001
Classification: safe (new tables only)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "taxonomy_terms",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("parent_id", BigId, nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["taxonomy_terms.id"],
            name=op.f("fk_taxonomy_terms_parent_id_taxonomy_terms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_terms")),
        sa.UniqueConstraint("term", name=op.f("uq_taxonomy_terms_term")),
    )
    with op.batch_alter_table("taxonomy_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxonomy_terms_parent_id"), ["parent_id"])
    op.create_table(
        "taxonomy_synonyms",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("synonym", sa.String(length=200), nullable=False),
        sa.Column("term_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["term_id"], ["taxonomy_terms.id"],
            name=op.f("fk_taxonomy_synonyms_term_id_taxonomy_terms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_synonyms")),
        sa.UniqueConstraint("synonym", name=op.f("uq_taxonomy_synonyms_synonym")),
    )
    with op.batch_alter_table("taxonomy_synonyms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxonomy_synonyms_term_id"), ["term_id"])
