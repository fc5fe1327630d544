"""attestations: namespace signing keys, artifact manifests and verified DSSE envelopes

``signing_keys`` holds the public keys teams register per namespace (revoked keys stay,
with ``revoked_at``); ``artifact_manifests`` a model version's per-file SHA-256 manifest
(its root digest is also the version's ``digests["sha256"]``); ``attestations`` the DSSE
envelopes the registry verified (or signed itself), each with the ``attestation.stored``
event that proves when.

Revision ID: 0011
Revises: 0010
Classification: safe (new, empty tables)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("namespace", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(32), nullable=False),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("namespace", "key_id",
                            name=op.f("uq_signing_keys_namespace_key_id")),
    )
    op.create_table(
        "artifact_manifests",
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("root_sha256", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(500), nullable=False),
        sa.Column("serialization", JSONType, nullable=False),
        sa.Column("files", JSONType, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_artifact_manifests_asset_id_assets")),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_artifact_manifests")),
    )
    op.create_index("ix_artifact_manifests_root_sha256", "artifact_manifests", ["root_sha256"])
    op.create_table(
        "attestations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("asset_id", BigId, nullable=False),
        sa.Column("subject_algorithm", sa.String(32), nullable=False),
        sa.Column("subject_digest", sa.String(128), nullable=False),
        sa.Column("predicate_type", sa.String(300), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("envelope_sha256", sa.String(64), nullable=False),
        sa.Column("signer", sa.String(64), nullable=False),
        sa.Column("key_ids", JSONType, nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"],
                                name=op.f("fk_attestations_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestations")),
    )
    op.create_index("ix_attestations_asset_id_id", "attestations", ["asset_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_attestations_asset_id_id", table_name="attestations")
    op.drop_table("attestations")
    op.drop_index("ix_artifact_manifests_root_sha256", table_name="artifact_manifests")
    op.drop_table("artifact_manifests")
    op.drop_table("signing_keys")
