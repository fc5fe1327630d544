"""The in-process transport: the service layer called in this process."""

from __future__ import annotations

import shutil
from typing import Any, BinaryIO

from sqlalchemy.engine import make_url

from modelatlas.client._deprecations import warn_plan
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import (
    Asset,
    AssetCreate,
    AssetUpdate,
    CheckRequest,
    CheckResult,
    Event,
    ModelRequirements,
    NamespaceSchema,
    OpenLineageIngest,
    Page,
    Registration,
    Registry,
    RelatedAsset,
    Relation,
    RelationCreate,
    RequirementsIn,
    ResolutionOut,
    ResolveRequest,
    SearchResult,
    Suggestion,
    VersionRegistration,
    WhyRequest,
    WhyResult,
)
from modelatlas.registry.access_types import (
    GrantIn,
    NamespacePolicyIn,
    NamespacePolicyOut,
    RoleGrant,
)
from modelatlas.registry.alias_types import Alias, AliasSet, LineageChange, LineageDecision
from modelatlas.registry.artifact_types import StoredArtifact
from modelatlas.registry.attestation_types import (
    ArtifactManifest,
    Attestation,
    AttestationIn,
    AttestationList,
    RegistryKey,
    SigningKey,
    SigningKeyIn,
)
from modelatlas.registry.audit_types import (
    AuditCheckpoint,
    ConsistencyProof,
    CosignRequest,
    InclusionProof,
)
from modelatlas.registry.deprecation_types import (
    DeprecatedDeployment,
    Deprecation,
    DeprecationPlan,
)
from modelatlas.registry.feast_types import FeastImport, FeastImported
from modelatlas.registry.impact_types import ImpactChange, ImpactReport, RevalidationMark
from modelatlas.registry.integration_types import (
    CardImport,
    CardImported,
    DeploymentsImport,
    DeploymentsImported,
)
from modelatlas.registry.lifecycle_types import (
    ApprovalIn,
    ApprovalRequest,
    ApprovalResult,
    CommentIn,
    PromotionPolicyIn,
    PromotionPolicyOut,
    PromotionStatus,
    Review,
    StageChange,
)
from modelatlas.registry.lineage_types import (
    BlastRadius,
    LineageGraph,
    LineageNeighbours,
    LineagePaths,
    LineageQuery,
)
from modelatlas.registry.provenance_types import ProvenanceMetrics, ProvenanceReport
from modelatlas.registry.reconcile_types import (
    CatalogReconcileIn,
    CatalogReconcileReport,
    PolicyCheckIn,
    PolicyCheckResult,
)
from modelatlas.registry.run_types import RunRecord, RunRecorded
from modelatlas.registry.sensitive_types import SensitiveFields, SensitiveFieldsIn
from modelatlas.registry.token_types import Token, TokenCreate, TokenCreated
from modelatlas.registry.webhook_types import (
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookUpdate,
)
from modelatlas.registry.withdrawal_types import Withdrawal, WithdrawalRequest
from modelatlas.search.taxonomy import Expansion, LoadSummary, Term


class _LocalTransport:
    """Calls the service layer in this process; the writes are attributed to ``actor``."""

    def __init__(self, registry: Registry, actor: str | None) -> None:
        self.registry = registry
        self.actor = actor

    def create_asset(self, spec: AssetCreate, idempotency_key: str | None) -> Asset:
        return self.registry.create_asset(
            spec, idempotency_key=idempotency_key, principal=self._principal()
        )

    def get_asset(self, ref: str) -> Asset:
        asset = self.registry.get_asset(ref, principal=self._principal())
        if asset.kind == "model_version":  # warns as the HTTP transport does on its headers
            warn_plan(self.registry.deprecation_notice(asset.ref))
        return asset

    def update_asset(self, ref: str, patch: AssetUpdate, revision: int) -> Asset:
        return self.registry.update_asset(
            ref, patch, expected_revision=revision, principal=self._principal()
        )

    def list_assets(self, query: dict[str, Any]) -> Page[Asset]:
        return self.registry.list_assets(**query, principal=self._principal())

    def history(self, ref: str, query: dict[str, Any]) -> Page[Event]:
        return self.registry.history(ref, **query, principal=self._principal())

    def relations(self, ref: str, query: dict[str, Any]) -> Page[Relation]:
        return self.registry.relations(ref, **query, principal=self._principal())

    def register_version(
        self, namespace: str, name: str, reg: VersionRegistration, idempotency_key: str | None
    ) -> Registration:
        return self.registry.register_version(
            namespace, name, reg, idempotency_key=idempotency_key, principal=self._principal()
        )

    def list_versions(self, namespace: str, name: str, query: dict[str, Any]) -> Page[Asset]:
        return self.registry.list_versions(namespace, name, **query,
                                           principal=self._principal())

    def add_relation(self, spec: RelationCreate,
                     idempotency_key: str | None) -> Relation | LineageChange:
        return self.registry.add_relation(
            spec, idempotency_key=idempotency_key, principal=self._principal()
        )

    def remove_relation(self, source: str, relation: str,
                        target: str) -> LineageChange | None:
        return self.registry.remove_relation(source, relation, target,
                                             principal=self._principal())

    def events(self, after: int, limit: int) -> Page[Event]:
        return self.registry.events(after=after, limit=limit, principal=self._principal())

    def set_schema(self, namespace: str, kind: str, json_schema: dict[str, Any]) -> NamespaceSchema:
        return self.registry.set_namespace_schema(namespace, kind, json_schema,
                                                  principal=self._principal())

    def get_schema(self, namespace: str, kind: str) -> NamespaceSchema:
        return self.registry.get_namespace_schema(namespace, kind, principal=self._principal())

    def taxonomy_terms(self, query: dict[str, Any]) -> Page[Term]:
        return self.registry.taxonomy_terms(**query, principal=self._principal())

    def get_term(self, term: str) -> Term:
        return self.registry.get_term(term, principal=self._principal())

    def set_term(self, term: str, body: dict[str, Any]) -> Term:
        return self.registry.set_term(term, **body, principal=self._principal())

    def remove_term(self, term: str) -> None:
        self.registry.remove_term(term, principal=self._principal())

    def add_synonym(self, term: str, synonym: str) -> Term:
        return self.registry.add_synonym(term, synonym, principal=self._principal())

    def remove_synonym(self, synonym: str) -> None:
        self.registry.remove_synonym(synonym, principal=self._principal())

    def load_vocabulary(self, document: dict[str, Any], replace: bool) -> LoadSummary:
        return self.registry.load_vocabulary(document, replace=replace,
                                             principal=self._principal())

    def expand_tag(self, tag: str) -> Expansion:
        return self.registry.expand_tag(tag, principal=self._principal())

    def search(self, q: str, query: dict[str, Any]) -> SearchResult:
        return self.registry.search(q, **query, principal=self._principal())

    def suggest(self, q: str, limit: int) -> list[Suggestion]:
        return self.registry.suggest(q, limit=limit, principal=self._principal())

    def related(self, ref: str, limit: int) -> list[RelatedAsset]:
        return self.registry.related(ref, limit=limit, principal=self._principal())

    def record_usage(self, signal: str, ref: str) -> None:
        self.registry.record_usage(signal, ref, principal=self._principal())

    def deps_requirements(self, ref: str) -> ModelRequirements:
        return self.registry.requirements(ref, principal=self._principal())

    def set_requirements(self, ref: str, body: RequirementsIn) -> ModelRequirements:
        return self.registry.set_requirements(ref, body, actor=self.actor,
                                              principal=self._principal())

    def deps_check(self, body: CheckRequest) -> CheckResult:
        return self.registry.check(body.ref, body.target, environment=body.environment,
                                   principal=self._principal())

    def deps_resolve(self, body: ResolveRequest) -> ResolutionOut:
        return self.registry.resolve(body, principal=self._principal())

    def deps_why(self, body: WhyRequest) -> WhyResult:
        return self.registry.why(body, principal=self._principal())

    def deps_impact(self, body: ImpactChange) -> ImpactReport:
        return self.registry.impact(body, principal=self._principal())

    def deps_revalidation(self, query: dict[str, Any]) -> Page[RevalidationMark]:
        return self.registry.revalidation_marks(**query, principal=self._principal())

    def close(self) -> None:
        self.registry.close()

    # --- provenance ---
    def provenance_report(self, ref: str) -> ProvenanceReport:
        return self.registry.provenance_report(ref, principal=self._principal())

    def export_prov(self, ref: str, query: dict[str, Any], fmt: str) -> str:
        return self.registry.export_prov(ref, query, fmt, principal=self._principal())

    def provenance_metrics(self, namespace: str | None) -> ProvenanceMetrics:
        return self.registry.provenance_metrics(namespace, principal=self._principal())

    # --- lineage ---
    def lineage_graph(self, ref: str, query: LineageQuery) -> LineageGraph:
        return self.registry.lineage(ref, query, principal=self._principal())

    def lineage_paths(self, source: str, target: str, depth: int, limit: int) -> LineagePaths:
        return self.registry.lineage_paths(source, target, depth=depth, limit=limit,
                                           principal=self._principal())

    def blast_radius(self, ref: str, depth: int, cursor: str | None,
                     limit: int) -> BlastRadius:
        return self.registry.blast_radius(ref, depth=depth, cursor=cursor, limit=limit,
                                          principal=self._principal())

    def lineage_neighbours(self, ref: str, direction: str, kind: str | None,
                           cursor: str | None, limit: int) -> LineageNeighbours:
        return self.registry.lineage_neighbours(ref, direction=direction, kind=kind,
                                                cursor=cursor, limit=limit,
                                                principal=self._principal())

    # --- openlineage ---
    def openlineage_ingest(self, events: Any) -> OpenLineageIngest:
        return self.registry.ingest_openlineage(events, actor=self.actor,
                                               principal=self._principal())

    # --- withdrawal ---
    def withdraw(self, ref: str, body: WithdrawalRequest) -> Withdrawal:
        return self.registry.withdraw(ref, reason=body.reason, category=body.category,
                                      depth=body.depth, principal=self._principal())

    def withdrawal(self, ref: str, cursor: str | None, limit: int) -> Withdrawal:
        return self.registry.withdrawal(ref, cursor=cursor, limit=limit,
                                        principal=self._principal())

    # --- attestations ---
    def register_key(self, namespace: str, body: SigningKeyIn) -> SigningKey:
        return self.registry.register_key(namespace, body, actor=self.actor,
                                          principal=self._principal())

    def signing_keys(self, namespace: str) -> list[SigningKey]:
        return self.registry.signing_keys(namespace, principal=self._principal())

    def revoke_key(self, namespace: str, key_id: str) -> SigningKey:
        return self.registry.revoke_key(namespace, key_id, actor=self.actor,
                                        principal=self._principal())

    def registry_key(self) -> RegistryKey:
        return self.registry.registry_key()

    def artifact_manifest(self, ref: str) -> ArtifactManifest:
        return self.registry.artifact_manifest(ref, principal=self._principal())

    def attest(self, ref: str) -> Attestation:
        return self.registry.attest(ref, actor=self.actor, principal=self._principal())

    def upload_attestation(self, ref: str, body: AttestationIn) -> Attestation:
        return self.registry.upload_attestation(ref, body, actor=self.actor,
                                                principal=self._principal())

    def attestations(self, ref: str) -> AttestationList:
        return self.registry.attestations(ref, principal=self._principal())

    # --- runs ---
    def record_run(self, record: RunRecord, idempotency_key: str | None) -> RunRecorded:
        return self.registry.record_run(record, idempotency_key=idempotency_key,
                                        principal=self._principal())

    # --- audit ---
    def audit_location(self) -> str:
        url = make_url(self.registry.settings.resolved_database_url())
        return "local:" + url.render_as_string(hide_password=True)

    def audit_public_key(self) -> str:
        return self.registry.audit_public_key(principal=self._principal())

    def audit_checkpoint(self, witnesses: list[str]) -> AuditCheckpoint:
        return self.registry.audit_checkpoint(witnesses=witnesses,
                                              principal=self._principal())

    def audit_inclusion_proof(self, seq: int, tree_size: int | None) -> InclusionProof:
        return self.registry.audit_inclusion_proof(seq, tree_size=tree_size,
                                                   principal=self._principal())

    def audit_consistency_proof(self, from_size: int,
                                to_size: int | None) -> ConsistencyProof:
        return self.registry.audit_consistency_proof(from_size, to_size,
                                                     principal=self._principal())

    def audit_cosign(self, body: CosignRequest) -> AuditCheckpoint:
        return self.registry.audit_cosign(body, principal=self._principal())

    # --- access ---
    def _principal(self) -> Principal | None:
        """The in-process client is the embedded single user, under its own name (the
        tokens methods below use it too)."""
        return Principal.local(self.actor) if self.actor else None

    def list_grants(self, namespace: str) -> list[RoleGrant]:
        return self.registry.list_grants(namespace, principal=self._principal())

    def grant_role(self, namespace: str, body: GrantIn) -> RoleGrant:
        return self.registry.grant_role(namespace, body, principal=self._principal())

    def revoke_role(self, namespace: str, principal_type: str, name: str) -> RoleGrant:
        return self.registry.revoke_role(namespace, principal_type, name,
                                         principal=self._principal())

    def namespace_policy(self, namespace: str) -> NamespacePolicyOut:
        return self.registry.namespace_policy(namespace, principal=self._principal())

    def set_namespace_policy(self, namespace: str,
                             body: NamespacePolicyIn) -> NamespacePolicyOut:
        return self.registry.set_namespace_policy(namespace, body,
                                                  principal=self._principal())

    def sensitive_fields(self, namespace: str, kind: str) -> SensitiveFields:
        return self.registry.get_sensitive_fields(namespace, kind,
                                                  principal=self._principal())

    def set_sensitive_fields(self, namespace: str, kind: str,
                             body: SensitiveFieldsIn) -> SensitiveFields:
        return self.registry.set_sensitive_fields(namespace, kind, body,
                                                  principal=self._principal())

    # --- tokens --- (the caller is self._principal(), defined under access)
    def create_token(self, body: TokenCreate) -> TokenCreated:
        return self.registry.create_token(body, principal=self._principal())

    def tokens(self) -> list[Token]:
        return self.registry.tokens(principal=self._principal())

    def revoke_token(self, token_id: str) -> Token:
        return self.registry.revoke_token(token_id, principal=self._principal())

    # --- deprecation ---
    def deprecate(self, ref: str, body: DeprecationPlan) -> Deprecation:
        return self.registry.deprecate(ref, body, principal=self._principal())

    def deprecation(self, ref: str) -> Deprecation:
        return self.registry.deprecation(ref, principal=self._principal())

    def withdraw_deprecation(self, ref: str) -> Deprecation:
        return self.registry.withdraw_deprecation(ref, principal=self._principal())

    def deprecated_deployments(self, query: dict[str, Any]) -> Page[DeprecatedDeployment]:
        return self.registry.deprecated_deployments(**query, principal=self._principal())

    # --- artifacts (bytes) ---
    def upload_artifact(self, ref: str, name: str, source: BinaryIO) -> StoredArtifact:
        return self.registry.store_artifact(ref, name, source, principal=self._principal())

    def download_artifact(self, ref: str, name: str, sink: BinaryIO) -> str:
        stored, path = self.registry.open_artifact(ref, name, principal=self._principal())
        with path.open("rb") as handle:
            shutil.copyfileobj(handle, sink, 1024 * 1024)
        return stored.sha256

    # --- webhooks ---
    def create_webhook(self, namespace: str, body: WebhookCreate) -> WebhookCreated:
        return self.registry.create_webhook(namespace, body, principal=self._principal())

    def webhooks(self, namespace: str) -> list[Webhook]:
        return self.registry.webhooks(namespace, principal=self._principal())

    def get_webhook(self, webhook_id: int) -> Webhook:
        return self.registry.get_webhook(webhook_id, principal=self._principal())

    def update_webhook(self, webhook_id: int, body: WebhookUpdate) -> Webhook:
        return self.registry.update_webhook(webhook_id, body, principal=self._principal())

    def delete_webhook(self, webhook_id: int) -> Webhook:
        return self.registry.delete_webhook(webhook_id, principal=self._principal())

    def webhook_deliveries(self, webhook_id: int,
                           query: dict[str, Any]) -> Page[WebhookDelivery]:
        return self.registry.webhook_deliveries(webhook_id, **query,
                                                principal=self._principal())

    # --- aliases and lineage changes ---
    def set_alias(self, namespace: str, name: str, alias: str, body: AliasSet) -> Alias:
        return self.registry.set_alias(namespace, name, alias, body, principal=self._principal())

    def get_alias(self, namespace: str, name: str, alias: str) -> Asset:
        return self.registry.get_alias(namespace, name, alias, principal=self._principal())

    def aliases(self, namespace: str, name: str) -> Page[Alias]:
        return self.registry.aliases(namespace, name, principal=self._principal())

    def remove_alias(self, namespace: str, name: str, alias: str) -> None:
        self.registry.remove_alias(namespace, name, alias, principal=self._principal())

    def lineage_changes(self, query: dict[str, Any]) -> Page[LineageChange]:
        return self.registry.lineage_changes(**query, principal=self._principal())

    def lineage_change(self, change_id: int) -> LineageChange:
        return self.registry.lineage_change(change_id, principal=self._principal())

    def decide_lineage_change(self, change_id: int, verdict: str,
                              body: LineageDecision) -> LineageChange:
        decide = (self.registry.approve_lineage_change if verdict == "approve"
                  else self.registry.reject_lineage_change)
        return decide(change_id, body, principal=self._principal())

    # --- lifecycle ---
    def set_stage(self, namespace: str, name: str, version: str,
                  body: StageChange) -> Asset:
        return self.registry.set_stage(namespace, name, version, body,
                                       principal=self._principal())

    def review_version(self, namespace: str, name: str, version: str,
                       body: ApprovalIn) -> ApprovalResult:
        return self.registry.review_version(namespace, name, version, body,
                                            principal=self._principal())

    def comment_version(self, namespace: str, name: str, version: str,
                        body: CommentIn) -> Review:
        return self.registry.comment_version(namespace, name, version, body,
                                             principal=self._principal())

    def version_reviews(self, namespace: str, name: str, version: str,
                        query: dict[str, Any]) -> Page[Review]:
        return self.registry.version_reviews(namespace, name, version, **query,
                                             principal=self._principal())

    def promotion_status(self, namespace: str, name: str, version: str) -> PromotionStatus:
        return self.registry.promotion_status(namespace, name, version,
                                              principal=self._principal())

    def approval_inbox(self, query: dict[str, Any]) -> Page[ApprovalRequest]:
        return self.registry.approval_inbox(**query, principal=self._principal())

    def promotion_policy(self, namespace: str) -> PromotionPolicyOut:
        return self.registry.promotion_policy(namespace, principal=self._principal())

    def set_promotion_policy(self, namespace: str,
                             body: PromotionPolicyIn) -> PromotionPolicyOut:
        return self.registry.set_promotion_policy(namespace, body,
                                                  principal=self._principal())

    # --- integrations ---
    def reconcile_catalog(self, body: CatalogReconcileIn) -> CatalogReconcileReport:
        return self.registry.reconcile_catalog(body.export, format=body.format,
                                               namespace=body.namespace, sync=body.sync,
                                               principal=self._principal())

    def policy_check(self, body: PolicyCheckIn) -> PolicyCheckResult:
        return self.registry.policy_check(body.ref, environment=body.environment,
                                          principal=self._principal())

    # --- integrations (cards, manifests) ---
    def import_card(self, namespace: str, name: str, body: CardImport) -> CardImported:
        return self.registry.import_card(Ref.of("model", namespace, name), body,
                                         principal=self._principal())

    def export_card(self, ref: str) -> str:
        return self.registry.export_card(ref, principal=self._principal())

    def import_deployments(self, body: DeploymentsImport) -> DeploymentsImported:
        return self.registry.import_deployments(body, principal=self._principal())

    def import_feast(self, body: FeastImport) -> FeastImported:
        return self.registry.import_feast(body, principal=self._principal())
