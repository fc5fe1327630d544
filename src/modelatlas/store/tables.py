"""The tables. Surrogate integer keys everywhere; names live in one row each.

Times are stored as ISO 8601 UTC text (``2026-11-26T09:30:00.123456Z``) so they sort
the same on SQLite and PostgreSQL and round-trip without driver-specific conversions.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # rowid alias on SQLite
Timestamp = sa.String(32)

assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("namespace", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    # '' for unversioned assets: a NULL would escape the unique constraint on SQLite.
    sa.Column("version", sa.String(100), nullable=False, server_default=""),
    sa.Column("version_number", sa.Integer, nullable=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("owners", JSONType, nullable=False),
    sa.Column("tags", JSONType, nullable=False),
    sa.Column("meta", JSONType, nullable=False),
    sa.Column("custom", JSONType, nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("digests", JSONType, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("kind", "namespace", "name", "version"),
    sa.Index(None, "namespace", "kind", "id"),
    sa.Index(None, "kind", "id"),
)

asset_tags = sa.Table(
    "asset_tags",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("tag", sa.String(200), primary_key=True),
    sa.Index(None, "tag", "asset_id"),
)

relations = sa.Table(
    "relations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("relation", sa.String(32), nullable=False),
    sa.Column("target_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("properties", JSONType, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("source_id", "relation", "target_id"),
    sa.Index(None, "target_id", "relation", "source_id"),  # covering: a downstream step (0014)
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("time", Timestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("ref", sa.String(400), nullable=False),
    sa.Column("asset_id", BigId, nullable=True),
    # The canonical (RFC 8785) payload text, exactly the bytes its digest is taken over.
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.Index(None, "asset_id", "seq"),
)

version_counters = sa.Table(
    "version_counters",
    metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("request_sha256", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

namespace_schemas = sa.Table(
    "namespace_schemas",
    metadata,
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("json_schema", JSONType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

# The controlled vocabulary of semantic tags: canonical terms in a hierarchy, and synonyms
# that resolve to a term. Tags on assets stay free text; the vocabulary interprets them.
taxonomy_terms = sa.Table(
    "taxonomy_terms",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("term", sa.String(200), nullable=False, unique=True),
    sa.Column("parent_id", BigId, sa.ForeignKey("taxonomy_terms.id"), nullable=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Index(None, "parent_id"),
)

taxonomy_synonyms = sa.Table(
    "taxonomy_synonyms",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("synonym", sa.String(200), nullable=False, unique=True),
    sa.Column("term_id", BigId, sa.ForeignKey("taxonomy_terms.id"), nullable=False),
    sa.Index(None, "term_id"),
)

# Usage signals (searches run, assets opened, pulled, deployed), learned for suggestions.
# One row per subject, its weight decayed with a half-life: ``score`` is the weight as of
# ``touched_at``, seconds since the Unix epoch (a number, unlike the ISO text times above,
# because the decay is computed in SQL from the elapsed time).
asset_usage = sa.Table(
    "asset_usage",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("touched_at", sa.Float, nullable=False),
)

# Terms: ``tag:pii``, ``namespace:fraud``, ``meta.framework:xgboost``, ``field:metrics.auc``.
term_usage = sa.Table(
    "term_usage",
    metadata,
    sa.Column("term", sa.String(300), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("touched_at", sa.Float, nullable=False),
)

# Name completion across namespaces and kinds reads a range of names, with each one's kind
# and namespace from the index alone, not a table row per candidate (0022).
sa.Index("ix_assets_name_kind_namespace_id", assets.c.name, assets.c.kind,
         assets.c.namespace, assets.c.id)
# Name prefixes within a kind, and sort=name, read a range of (kind, name, id).
sa.Index("ix_assets_kind_name_id", assets.c.kind, assets.c.name, assets.c.id)

# What a model version declares it needs (modelatlas.deps.model.Requirements), one row per
# requirement so impact questions ("every version that requires numpy") are index ranges.
# type: python | package | asset | accelerator | cuda | image | input_schema | output_schema;
# name: the canonical package name, or the asset's ref without version, or '' (python,
# accelerator, cuda, image); specifier: a PEP 440 specifier set, or the value itself
# (accelerator "gpu", image "ghcr.io/...", input_schema "schema:fraud/tx@3").
requirements = sa.Table(
    "requirements",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("specifier", sa.String(1000), nullable=False),
    sa.Column("extras", JSONType, nullable=False),
    sa.Column("marker", sa.String(1000), nullable=True),
    sa.Column("url", sa.String(2000), nullable=True),
    sa.Column("hashes", JSONType, nullable=False),
    sa.Column("origin_file", sa.String(500), nullable=False),
    sa.Column("origin_line", sa.Integer, nullable=True),
    sa.Index(None, "type", "name", "specifier", "asset_id"),
)

# Model versions (and deployments) whose dependency changed since they were validated:
# one row per asset and cause; a passing evaluation against the new dependency clears it.
revalidation_marks = sa.Table(
    "revalidation_marks",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("cause_ref", sa.String(500), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("marked_at", Timestamp, nullable=False),
    sa.Index(None, "cause_ref"),
)

# Every numeric meta.metrics.* value, kept by the database (migration 0007's triggers):
# metric filters and sorts read a range of (name, value).
asset_metrics = sa.Table(
    "asset_metrics",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    # the asset's, copied (migration 0024): "kind K, namespace N, metric in a range" is
    # then one range of the second index instead of a probe per asset of K in N
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("namespace", sa.String(64), nullable=False),
    # the id in ``facet_key_values`` of the asset's facet key (migration 0025); last in
    # the scoped index, so facets over a scoped metric range are counted from the range
    # without reading an asset row. No foreign key: keys are only ever added, and the
    # check would cost every metric write a probe
    sa.Column("facet_key", sa.Integer, nullable=False),
    # the id in ``dataset_key_values`` of the set of inputs of the runs that produced the
    # asset (0025; null for none), kept by triggers on ``run_inputs``: the dataset facet
    # over a scoped range expands each distinct set once instead of probing per hit
    sa.Column("dataset_key", sa.Integer, nullable=True),
    sa.Index(None, "name", "value", "asset_id"),
    # named: the conventional name would pass PostgreSQL's 63-character limit
    sa.Index("ix_asset_metrics_scoped_facets", "name", "kind", "namespace", "value",
             "asset_id", "facet_key", "dataset_key"),
)

# the positions of a facet key that have a column in ``facet_key_values`` (0026)
FACET_KEY_POSITIONS = 7

# Every distinct facet key (0025): an asset's single-valued facet values as a JSON array
# in the order of ``facet_keys``, stored once and named by ``id`` from the metric rows, so
# the scoped index carries a small integer rather than the ~80-byte text
facet_key_values = sa.Table(
    "facet_key_values",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    # the key's elements as text, ``value_<position>`` (0026, filled by a trigger from
    # ``key``): counting groups a column instead of parsing the JSON per key and facet
    *(sa.Column(f"value_{position}", sa.Text) for position in range(FACET_KEY_POSITIONS)),
)

# Every distinct set of run inputs of an asset (0025): the input ids, sorted, as a JSON
# array, named by ``id`` from ``asset_metrics.dataset_key``
dataset_key_values = sa.Table(
    "dataset_key_values",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("inputs", sa.Text, nullable=False, unique=True),
)

# Which facet each position of a facet key (``facet_key_values.key``) holds, as the
# triggers that write the keys compute it (0025): the search engine counts from the keys
# only while these agree with its facet configuration. ``spec`` is the facet's
# configuration as JSON.
facet_keys = sa.Table(
    "facet_keys",
    metadata,
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("facet", sa.String(64), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
)

# "output was produced by a run that used input", kept by the database (migration 0008's
# triggers on relations): "trained on X" is a range of (input_id, output_id).
run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column("input_id", BigId, primary_key=True),
    sa.Column("output_id", BigId, primary_key=True),
    sa.Column("run_id", BigId, primary_key=True),
    sa.Index(None, "output_id", "input_id"),
    sa.Index(None, "run_id"),
)

# When each relation existed (migration 0009's triggers on relations): one row per stretch,
# removed_at NULL while it exists. Lineage "as of T" walks the rows alive at T.
relation_history = sa.Table(
    "relation_history",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source_id", BigId, nullable=False),
    sa.Column("relation", sa.String(32), nullable=False),
    sa.Column("target_id", BigId, nullable=False),
    sa.Column("added_at", Timestamp, nullable=False),
    sa.Column("removed_at", Timestamp, nullable=True),
    sa.Index(None, "source_id", "relation", "added_at"),
    sa.Index(None, "target_id", "relation", "added_at"),
)

# The audit log (migration 0010): events as leaves of an RFC 6962 Merkle tree. One head row
# (id 1) that writers lock; leaf index <-> event seq; the root of every perfect subtree
# above the leaves; signed checkpoints (C2SP signed notes). See docs/audit.md.
audit_tree = sa.Table(
    "audit_tree",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("log_id", sa.String(32), nullable=False),
)

audit_leaves = sa.Table(
    "audit_leaves",
    metadata,
    sa.Column("leaf_index", BigId, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

merkle_nodes = sa.Table(
    "merkle_nodes",
    metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("size", BigId, primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("signed_note", sa.Text, nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

# Signing keys teams register per namespace (integrity: attestations). key_id is the SHA-256
# of the key's DER SubjectPublicKeyInfo; a revoked key stays, so old signatures can be named.
signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("namespace", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("algorithm", sa.String(32), nullable=False),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("revoked_at", Timestamp, nullable=True),
    sa.Column("revoked_by", sa.String(200), nullable=True),
    sa.UniqueConstraint("namespace", "key_id"),
)

# A model version's artifact manifest (modelatlas.integrity.manifest): per-file SHA-256 as
# [[name, sha256], ...] in canonical order; the root digest is also the version's
# digests["sha256"], the digest attestations and approvals bind to.
artifact_manifests = sa.Table(
    "artifact_manifests",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("root_sha256", sa.String(64), nullable=False),
    sa.Column("model_name", sa.String(500), nullable=False),
    sa.Column("serialization", JSONType, nullable=False),
    sa.Column("files", JSONType, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Index(None, "root_sha256"),
)

# Verified DSSE envelopes about an asset's artifact digest. ``envelope`` is the envelope as
# verified (canonical JSON); ``signer`` is the namespace whose keys verified it, or
# "registry" for the registry's own attestations; ``event_seq`` the attestation.stored event.
attestations = sa.Table(
    "attestations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
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
    sa.Index(None, "asset_id", "id"),
)

# API tokens (governance: authentication). Only SHA-256 of "token_id:secret" is kept; the
# secret is shown once, when the token is created. ``person`` is who the token acts as.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("token_id", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("person", sa.String(200), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp, nullable=True),
    sa.Column("revoked_at", Timestamp, nullable=True),
    sa.Column("revoked_by", sa.String(200), nullable=True),
    sa.Index(None, "person", "id"),
)

# Roles a namespace grants (governance: authorisation). ``namespace`` "*" is registry-wide;
# ``principal_type`` is user, group or token (``principal_name`` the person, the group or
# the token id). One role per principal and namespace: granting again replaces it.
role_grants = sa.Table(
    "role_grants",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("namespace", sa.String(64), nullable=False),
    sa.Column("principal_type", sa.String(16), nullable=False),
    sa.Column("principal_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("namespace", "principal_type", "principal_name"),
    # a caller's grants in every namespace at once (what they may read, search filters)
    sa.Index(None, "principal_type", "principal_name"),
)

# A namespace's attribute rules; a namespace without a row has the defaults.
namespace_policies = sa.Table(
    "namespace_policies",
    metadata,
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("protected_aliases", JSONType, nullable=False),
    sa.Column("contributors_read_promoted_only", sa.Boolean, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

# Lifecycle (governance: promotion). What promoting a version to production needs in a
# namespace; a namespace without a row needs nothing.
promotion_policies = sa.Table(
    "promotion_policies",
    metadata,
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("required_approvals", sa.Integer, nullable=False, server_default="0"),
    sa.Column("require_passing_evaluation", sa.Boolean, nullable=False),
    sa.Column("require_verified_attestation", sa.Boolean, nullable=False),
    sa.Column("require_clean_deps", sa.Boolean, nullable=False),
    sa.Column("deps_target", sa.String(500), nullable=True),  # the environment's ref
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

# Reviews of a model version: approval, rejection, comment, release_note, request. Each is
# bound to the version's manifest root digest when it was written (an approval of other
# bytes does not count); ``closed_at`` marks a request a stage change answered.
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("person", sa.String(200), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("token_id", sa.String(64), nullable=True),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("manifest_sha256", sa.String(64), nullable=True),
    sa.Column("stage", sa.String(32), nullable=True),
    sa.Column("closed_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "asset_id", "kind"),
    sa.Index(None, "kind", "closed_at", "id"),  # the approvals inbox: open requests by id
)

# A model version's deprecation plan (issue 7 item 4; registry/_deprecation.py). One row per
# deprecated version; withdrawing the plan deletes it. ``announced_*`` is the first
# announcement (the ``Deprecation`` header's date), ``changed_*`` the latest; ``consumers``
# counts by kind what the latest announcement found through lineage and notified.
deprecations = sa.Table(
    "deprecations",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("announced_at", Timestamp, nullable=False),
    sa.Column("announced_by", sa.String(200), nullable=False),
    sa.Column("changed_at", Timestamp, nullable=False),
    sa.Column("changed_by", sa.String(200), nullable=False),
    sa.Column("sunset_at", Timestamp, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("replacement_id", BigId, sa.ForeignKey("assets.id"), nullable=True),
    sa.Column("consumers", JSONType, nullable=False),
    # the report of deployments serving deprecated versions pages in sunset order
    sa.Index(None, "sunset_at", "asset_id"),
)

# Named pointers to model versions (``champion``, ``challenger``): one row per model and
# alias (migration 0016). ``model_version:ns/name@champion`` resolves through it.
model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("version_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("set_by", sa.String(200), nullable=False),
    sa.Column("set_at", Timestamp, nullable=False),
    sa.Index(None, "version_id"),
)

# Requested additions and removals of lineage edges touching a model version in production
# (migration 0016): ``asset_id`` is that version; status pending, applied or rejected.
lineage_changes = sa.Table(
    "lineage_changes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("op", sa.String(8), nullable=False),
    sa.Column("source_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("relation", sa.String(32), nullable=False),
    sa.Column("target_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("properties", JSONType, nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", Timestamp, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("decided_at", Timestamp, nullable=True),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Index(None, "status", "id"),
    sa.Index(None, "asset_id", "id"),
)

# Webhooks (notifications, migration 0018). ``secret`` is the HMAC key the worker signs
# deliveries with (so it is stored, unlike a token's); ``after_seq`` is the event the
# webhook was created at: only later events are delivered to it.
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("namespace", sa.String(64), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", JSONType, nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("allow_private", sa.Boolean, nullable=False),
    sa.Column("description", sa.String(500), nullable=False, server_default=""),
    sa.Column("after_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Index(None, "namespace", "id"),
)

# One row per (webhook, event): the delivery log and the work queue. A worker claims a due
# row by setting ``lease_until``; unique (webhook_id, event_seq) so an event is queued once.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("webhook_id", BigId, sa.ForeignKey("webhooks.id"), nullable=False),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("lease_until", Timestamp, nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("webhook_id", "event_seq"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "webhook_id", "id"),
)

# The last event sequence number the webhook worker has scanned (one row, id 1).
webhook_cursor = sa.Table(
    "webhook_cursor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# Encryption at rest (governance/crypto.py): which of a namespace's fields are sensitive,
# per kind (``fields``: ["metadata.location", "custom.contact"]) ...
sensitive_fields = sa.Table(
    "sensitive_fields",
    metadata,
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("fields", JSONType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

# ... and their values, AES-GCM sealed; the asset's own row holds "[redacted]" in their
# place. ``key_id`` names the keyring key (a rotation moves rows batch by batch).
sensitive_values = sa.Table(
    "sensitive_values",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("field", sa.String(200), primary_key=True),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("nonce", sa.LargeBinary(12), nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Index(None, "key_id", "asset_id", "field"),
)

# Artifact bytes uploaded for a model version (hardening, issue 7 item 7). The bytes live
# on disk under MODELATLAS_ARTIFACT_DIR by SHA-256; a row says which version's artifact
# (by the name its metadata gives it) they were uploaded for, so knowing a digest is not
# enough to download bytes another namespace stored.
stored_artifacts = sa.Table(
    "stored_artifacts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("stored_at", Timestamp, nullable=False),
    sa.Column("stored_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("asset_id", "name"),
    sa.Index(None, "sha256"),
)

# Who pulled an asset (its artifact downloaded, or a client's ``pulled`` signal), one row a
# person: a deprecation tells the teams those people belong to (issue 7 item 4).
asset_pulls = sa.Table(
    "asset_pulls",
    metadata,
    sa.Column("asset_id", BigId, sa.ForeignKey("assets.id"), primary_key=True),
    sa.Column("person", sa.String(200), primary_key=True),
    sa.Column("pulls", sa.Integer, nullable=False),
    sa.Column("last_pulled_at", Timestamp, nullable=False),
)
