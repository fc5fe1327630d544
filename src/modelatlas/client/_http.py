"""The HTTP transport: the REST API through httpx; problem documents become the
exceptions they describe."""

from __future__ import annotations

import json
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from modelatlas.client._deprecations import warn_from_headers
from modelatlas.errors import FieldError, ModelAtlasError, Unavailable
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

API_PREFIX = "/api/v1"


def _error_classes() -> dict[str, type[ModelAtlasError]]:
    """Every ModelAtlasError subclass by its stable code, looked up when an error arrives
    (so classes defined by modules imported later, such as the query parser's, count)."""
    found: dict[str, type[ModelAtlasError]] = {}
    pending: list[type[ModelAtlasError]] = [ModelAtlasError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


def _argument_path(path: str) -> str:
    """The API says which part of the request a field came from (``query/limit``,
    ``header/if-match``); the SDK names the argument, as the in-process transport does."""
    if path == "header/if-match":
        return "/revision"
    for part in ("query/", "path/"):
        if path.startswith(part):
            return "/" + path.removeprefix(part)
    return path


def error_from_problem(status: int, document: Any) -> ModelAtlasError:
    """Rebuild the exception an RFC 9457 problem document describes."""
    if not isinstance(document, dict):
        return ModelAtlasError(f"the registry answered HTTP {status} without a problem document")
    cls = _error_classes().get(str(document.get("code")), ModelAtlasError)
    errors = [
        FieldError(_argument_path(str(e.get("path", ""))), str(e.get("message", "")))
        for e in document.get("errors") or []
        if isinstance(e, dict)
    ]
    return cls(str(document.get("detail") or document.get("title") or status), errors=errors)


def quote_ref(ref: str) -> str:
    """A ref as a URL path (written whole). Segments made only of dots are escaped so no
    client or proxy collapses them as ``.``/``..`` path segments."""
    segments = []
    for segment in quote(ref, safe=":@/").split("/"):
        segments.append(segment.replace(".", "%2E") if set(segment) == {"."} else segment)
    return "/".join(segments)


class _HttpTransport:
    """Calls the REST API with httpx; problem documents become ModelAtlasErrors."""

    def __init__(self, url: str, *, timeout: float, headers: dict[str, str] | None,
                 token: str | None = None) -> None:
        self.url = url.rstrip("/")
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=self.url + API_PREFIX, timeout=timeout, headers=sent)

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        content = None
        if body is not None:
            data = body if isinstance(body, dict) else body.model_dump(
                mode="json", exclude_unset=True
            )
            content = json.dumps(data, ensure_ascii=False, allow_nan=False).encode()
        sent = {"content-type": "application/json"} if content is not None else {}
        sent.update(headers or {})
        if idempotency_key is not None:
            sent["idempotency-key"] = idempotency_key
        # A POST is only safe to send twice when the server can recognise the repeat.
        attempts = 2 if method == "POST" and idempotency_key is not None else 1
        for attempt in range(attempts):
            try:
                response = self.http.request(
                    method, path, content=content, params=params, headers=sent
                )
                break
            except httpx.TransportError as exc:
                if attempt + 1 < attempts:
                    continue
                raise Unavailable(f"cannot reach the registry at {self.url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                document = response.json()
            except ValueError:
                document = None
            raise error_from_problem(response.status_code, document)
        answer = response.json() if response.content else None
        warn_from_headers(response.headers, answer, path)  # a deprecated version: warn
        return answer

    def create_asset(self, spec: AssetCreate, idempotency_key: str | None) -> Asset:
        data = self._call("POST", "/assets", body=spec, idempotency_key=idempotency_key)
        return Asset.model_validate(data)

    def get_asset(self, ref: str) -> Asset:
        return Asset.model_validate(self._call("GET", f"/assets/{quote_ref(ref)}"))

    def update_asset(self, ref: str, patch: AssetUpdate, revision: int) -> Asset:
        data = self._call(
            "PATCH", f"/assets/{quote_ref(ref)}", body=patch,
            headers={"if-match": f'"{revision}"'},
        )
        return Asset.model_validate(data)

    def list_assets(self, query: dict[str, Any]) -> Page[Asset]:
        return Page[Asset].model_validate(self._call("GET", "/assets", params=query))

    def history(self, ref: str, query: dict[str, Any]) -> Page[Event]:
        data = self._call("GET", f"/assets/{quote_ref(ref)}/history", params=query)
        return Page[Event].model_validate(data)

    def relations(self, ref: str, query: dict[str, Any]) -> Page[Relation]:
        data = self._call("GET", f"/assets/{quote_ref(ref)}/relations", params=query)
        return Page[Relation].model_validate(data)

    def register_version(
        self, namespace: str, name: str, reg: VersionRegistration, idempotency_key: str | None
    ) -> Registration:
        path = f"/models/{quote(namespace, safe='')}/{quote(name, safe='')}/versions"
        data = self._call("POST", path, body=reg, idempotency_key=idempotency_key)
        return Registration.model_validate(data)

    def list_versions(self, namespace: str, name: str, query: dict[str, Any]) -> Page[Asset]:
        path = f"/models/{quote(namespace, safe='')}/{quote(name, safe='')}/versions"
        return Page[Asset].model_validate(self._call("GET", path, params=query))

    def add_relation(self, spec: RelationCreate,
                     idempotency_key: str | None) -> Relation | LineageChange:
        data = self._call("POST", "/relations", body=spec, idempotency_key=idempotency_key)
        if isinstance(data, dict) and "requested_by" in data:  # 202: a change request
            return LineageChange.model_validate(data)
        return Relation.model_validate(data)

    def remove_relation(self, source: str, relation: str,
                        target: str) -> LineageChange | None:
        params = {"source": source, "relation": relation, "target": target}
        data = self._call("DELETE", "/relations", params=params)
        return None if data is None else LineageChange.model_validate(data)  # 204 or 202

    def events(self, after: int, limit: int) -> Page[Event]:
        data = self._call("GET", "/events", params={"after": after, "limit": limit})
        return Page[Event].model_validate(data)

    def _schema_path(self, namespace: str, kind: str) -> str:
        return f"/namespaces/{quote(namespace, safe='')}/schemas/{quote(kind, safe='')}"

    def set_schema(self, namespace: str, kind: str, json_schema: dict[str, Any]) -> NamespaceSchema:
        data = self._call(
            "PUT", self._schema_path(namespace, kind), body={"json_schema": json_schema}
        )
        return NamespaceSchema.model_validate(data)

    def get_schema(self, namespace: str, kind: str) -> NamespaceSchema:
        return NamespaceSchema.model_validate(
            self._call("GET", self._schema_path(namespace, kind))
        )

    def taxonomy_terms(self, query: dict[str, Any]) -> Page[Term]:
        return Page[Term].model_validate(self._call("GET", "/taxonomy/terms", params=query))

    def get_term(self, term: str) -> Term:
        return Term.model_validate(self._call("GET", f"/taxonomy/terms/{quote_ref(term)}"))

    def set_term(self, term: str, body: dict[str, Any]) -> Term:
        data = self._call("PUT", f"/taxonomy/terms/{quote_ref(term)}", body=body)
        return Term.model_validate(data)

    def remove_term(self, term: str) -> None:
        self._call("DELETE", f"/taxonomy/terms/{quote_ref(term)}")

    def add_synonym(self, term: str, synonym: str) -> Term:
        data = self._call("PUT", f"/taxonomy/synonyms/{quote_ref(synonym)}", body={"term": term})
        return Term.model_validate(data)

    def remove_synonym(self, synonym: str) -> None:
        self._call("DELETE", f"/taxonomy/synonyms/{quote_ref(synonym)}")

    def load_vocabulary(self, document: dict[str, Any], replace: bool) -> LoadSummary:
        data = self._call("POST", "/taxonomy/load", body=document,
                          params={"replace": "true" if replace else "false"})
        return LoadSummary.model_validate(data)

    def expand_tag(self, tag: str) -> Expansion:
        return Expansion.model_validate(self._call("GET", "/taxonomy/expand", params={"tag": tag}))

    def search(self, q: str, query: dict[str, Any]) -> SearchResult:
        params = dict(query, q=q)
        if "facets" in params:
            params["facets"] = ",".join(params["facets"])
        return SearchResult.model_validate(self._call("GET", "/search", params=params))

    def suggest(self, q: str, limit: int) -> list[Suggestion]:
        data = self._call("GET", "/suggest", params={"q": q, "limit": limit})
        return [Suggestion.model_validate(item) for item in data]

    def related(self, ref: str, limit: int) -> list[RelatedAsset]:
        data = self._call("GET", f"/assets/{quote_ref(ref)}/related", params={"limit": limit})
        return [RelatedAsset.model_validate(item) for item in data]

    def record_usage(self, signal: str, ref: str) -> None:
        self._call("POST", "/usage", body={"signal": signal, "ref": ref})

    def deps_requirements(self, ref: str) -> ModelRequirements:
        data = self._call("GET", f"/deps/requirements/{quote_ref(ref)}")
        return ModelRequirements.model_validate(data)

    def set_requirements(self, ref: str, body: RequirementsIn) -> ModelRequirements:
        data = self._call("PUT", f"/deps/requirements/{quote_ref(ref)}", body=body)
        return ModelRequirements.model_validate(data)

    def deps_check(self, body: CheckRequest) -> CheckResult:
        return CheckResult.model_validate(self._call("POST", "/deps/check", body=body))

    def deps_resolve(self, body: ResolveRequest) -> ResolutionOut:
        return ResolutionOut.model_validate(self._call("POST", "/deps/resolve", body=body))

    def deps_why(self, body: WhyRequest) -> WhyResult:
        if body.index_snapshot is None:  # nothing that needs a body: the cacheable GET
            params = body.model_dump(exclude_none=True, exclude={"index_file", "machine"})
            return WhyResult.model_validate(self._call("GET", "/deps/why", params=params))
        return WhyResult.model_validate(self._call("POST", "/deps/why", body=body))

    def deps_impact(self, body: ImpactChange) -> ImpactReport:
        data = self._call("POST", "/deps/impact", body=body)
        return ImpactReport.model_validate(data)

    def deps_revalidation(self, query: dict[str, Any]) -> Page[RevalidationMark]:
        data = self._call("GET", "/deps/revalidation", params=query)
        return Page[RevalidationMark].model_validate(data)

    def close(self) -> None:
        self.http.close()

    # --- provenance ---
    def provenance_report(self, ref: str) -> ProvenanceReport:
        data = self._call("GET", f"/provenance/{quote_ref(ref)}")
        return ProvenanceReport.model_validate(data)

    def export_prov(self, ref: str, query: dict[str, Any], fmt: str) -> str:
        # PROV-O Turtle is not JSON: read the text, turn a problem document into its error
        try:
            response = self.http.get(f"/prov/{quote_ref(ref)}",
                                     params={**query, "format": fmt})
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the registry at {self.url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                document = response.json()
            except ValueError:
                document = None
            raise error_from_problem(response.status_code, document)
        return response.text

    def provenance_metrics(self, namespace: str | None) -> ProvenanceMetrics:
        params = {} if namespace is None else {"namespace": namespace}
        return ProvenanceMetrics.model_validate(
            self._call("GET", "/metrics/provenance", params=params))

    # --- lineage ---
    def lineage_graph(self, ref: str, query: LineageQuery) -> LineageGraph:
        params: dict[str, Any] = {"direction": query.direction, "depth": query.depth,
                                  "limit": query.limit}
        if query.relations:
            params["relation"] = query.relations
        if query.kinds:
            params["kind"] = query.kinds
        if query.as_of is not None:
            params["as_of"] = query.as_of
        data = self._call("GET", f"/lineage/{quote_ref(ref)}", params=params)
        return LineageGraph.model_validate(data)

    def lineage_paths(self, source: str, target: str, depth: int, limit: int) -> LineagePaths:
        params = {"source": source, "target": target, "depth": depth, "limit": limit}
        return LineagePaths.model_validate(self._call("GET", "/lineage-paths", params=params))

    def blast_radius(self, ref: str, depth: int, cursor: str | None,
                     limit: int) -> BlastRadius:
        params: dict[str, Any] = {"depth": depth, "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        data = self._call("GET", f"/blast-radius/{quote_ref(ref)}", params=params)
        return BlastRadius.model_validate(data)

    def lineage_neighbours(self, ref: str, direction: str, kind: str | None,
                           cursor: str | None, limit: int) -> LineageNeighbours:
        params: dict[str, Any] = {"direction": direction, "limit": limit}
        if kind is not None:
            params["kind"] = kind
        if cursor is not None:
            params["cursor"] = cursor
        data = self._call("GET", f"/lineage-neighbours/{quote_ref(ref)}", params=params)
        return LineageNeighbours.model_validate(data)

    # --- openlineage ---
    def openlineage_ingest(self, events: Any) -> OpenLineageIngest:
        # a batch is a JSON array, which _call's object bodies do not cover
        content = json.dumps(events, ensure_ascii=False, allow_nan=False).encode()
        try:
            response = self.http.post("/lineage", content=content,
                                      headers={"content-type": "application/json"})
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the registry at {self.url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                document = response.json()
            except ValueError:
                document = None
            raise error_from_problem(response.status_code, document)
        return OpenLineageIngest.model_validate(response.json())

    # --- withdrawal ---
    def withdraw(self, ref: str, body: WithdrawalRequest) -> Withdrawal:
        data = self._call("POST", f"/datasets/{quote_ref(ref)}/withdraw",
                          body=body.model_dump(mode="json"))
        return Withdrawal.model_validate(data)

    def withdrawal(self, ref: str, cursor: str | None, limit: int) -> Withdrawal:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        data = self._call("GET", f"/datasets/{quote_ref(ref)}/withdrawal", params=params)
        return Withdrawal.model_validate(data)

    # --- attestations ---
    def register_key(self, namespace: str, body: SigningKeyIn) -> SigningKey:
        data = self._call("POST", f"/namespaces/{quote(namespace, safe='')}/keys", body=body)
        return SigningKey.model_validate(data)

    def signing_keys(self, namespace: str) -> list[SigningKey]:
        data = self._call("GET", f"/namespaces/{quote(namespace, safe='')}/keys")
        return [SigningKey.model_validate(item) for item in data]

    def revoke_key(self, namespace: str, key_id: str) -> SigningKey:
        path = f"/namespaces/{quote(namespace, safe='')}/keys/{quote(key_id, safe='')}/revoke"
        return SigningKey.model_validate(self._call("POST", path))

    def registry_key(self) -> RegistryKey:
        return RegistryKey.model_validate(self._call("GET", "/registry-key"))

    def artifact_manifest(self, ref: str) -> ArtifactManifest:
        return ArtifactManifest.model_validate(self._call("GET", f"/manifests/{quote_ref(ref)}"))

    def attest(self, ref: str) -> Attestation:
        data = self._call("POST", f"/attestations/{quote_ref(ref)}/sign")
        return Attestation.model_validate(data)

    def upload_attestation(self, ref: str, body: AttestationIn) -> Attestation:
        data = self._call("POST", f"/attestations/{quote_ref(ref)}", body=body)
        return Attestation.model_validate(data)

    def attestations(self, ref: str) -> AttestationList:
        return AttestationList.model_validate(self._call("GET", f"/attestations/{quote_ref(ref)}"))

    # --- runs ---
    def record_run(self, record: RunRecord, idempotency_key: str | None) -> RunRecorded:
        data = self._call("POST", "/runs", body=record, idempotency_key=idempotency_key)
        return RunRecorded.model_validate(data)

    # --- audit ---
    def audit_location(self) -> str:
        return self.url

    def audit_public_key(self) -> str:
        return self.audit_checkpoint([]).public_key

    def audit_checkpoint(self, witnesses: list[str]) -> AuditCheckpoint:
        params = {"witness": witnesses} if witnesses else None
        return AuditCheckpoint.model_validate(
            self._call("GET", "/audit/checkpoint", params=params))

    def audit_inclusion_proof(self, seq: int, tree_size: int | None) -> InclusionProof:
        params = _given_params(seq=seq, tree_size=tree_size)
        return InclusionProof.model_validate(
            self._call("GET", "/audit/proofs/inclusion", params=params))

    def audit_consistency_proof(self, from_size: int,
                                to_size: int | None) -> ConsistencyProof:
        params = _given_params(**{"from": from_size, "to": to_size})
        return ConsistencyProof.model_validate(
            self._call("GET", "/audit/proofs/consistency", params=params))

    def audit_cosign(self, body: CosignRequest) -> AuditCheckpoint:
        return AuditCheckpoint.model_validate(
            self._call("POST", "/audit/checkpoint/cosign", body=body))

    # --- access ---
    def _grants_path(self, namespace: str) -> str:
        return f"/namespaces/{quote(namespace, safe='')}/grants"

    def list_grants(self, namespace: str) -> list[RoleGrant]:
        data = self._call("GET", self._grants_path(namespace))
        return [RoleGrant.model_validate(item) for item in data]

    def grant_role(self, namespace: str, body: GrantIn) -> RoleGrant:
        return RoleGrant.model_validate(
            self._call("POST", self._grants_path(namespace), body=body))

    def revoke_role(self, namespace: str, principal_type: str, name: str) -> RoleGrant:
        path = (f"{self._grants_path(namespace)}/{quote(principal_type, safe='')}"
                f"/{quote(name, safe='')}")
        return RoleGrant.model_validate(self._call("DELETE", path))

    def namespace_policy(self, namespace: str) -> NamespacePolicyOut:
        path = f"/namespaces/{quote(namespace, safe='')}/policy"
        return NamespacePolicyOut.model_validate(self._call("GET", path))

    def set_namespace_policy(self, namespace: str,
                             body: NamespacePolicyIn) -> NamespacePolicyOut:
        path = f"/namespaces/{quote(namespace, safe='')}/policy"
        return NamespacePolicyOut.model_validate(self._call("PUT", path, body=body))

    def sensitive_fields(self, namespace: str, kind: str) -> SensitiveFields:
        path = f"/namespaces/{quote(namespace, safe='')}/sensitive-fields/{quote(kind, safe='')}"
        return SensitiveFields.model_validate(self._call("GET", path))

    def set_sensitive_fields(self, namespace: str, kind: str,
                             body: SensitiveFieldsIn) -> SensitiveFields:
        path = f"/namespaces/{quote(namespace, safe='')}/sensitive-fields/{quote(kind, safe='')}"
        return SensitiveFields.model_validate(self._call("PUT", path, body=body))


    # --- tokens ---
    def create_token(self, body: TokenCreate) -> TokenCreated:
        return TokenCreated.model_validate(self._call("POST", "/tokens", body=body))

    def tokens(self) -> list[Token]:
        return [Token.model_validate(t) for t in self._call("GET", "/tokens")]

    def revoke_token(self, token_id: str) -> Token:
        return Token.model_validate(self._call("DELETE", f"/tokens/{quote(token_id, safe='')}"))

    # --- deprecation ---
    def _deprecation_path(self, ref: str) -> str:
        return f"/deprecations/{quote_ref(ref)}"

    def deprecate(self, ref: str, body: DeprecationPlan) -> Deprecation:
        return Deprecation.model_validate(
            self._call("POST", self._deprecation_path(ref), body=body))

    def deprecation(self, ref: str) -> Deprecation:
        return Deprecation.model_validate(self._call("GET", self._deprecation_path(ref)))

    def withdraw_deprecation(self, ref: str) -> Deprecation:
        return Deprecation.model_validate(self._call("DELETE", self._deprecation_path(ref)))

    def deprecated_deployments(self, query: dict[str, Any]) -> Page[DeprecatedDeployment]:
        return Page[DeprecatedDeployment].model_validate(
            self._call("GET", "/reports/deprecated-deployments", params=query))


    # --- artifacts (bytes) ---
    def _artifact_path(self, ref: str, name: str) -> str:
        segment = quote(name, safe="")
        segment = segment.replace(".", "%2E") if set(segment) == {"."} else segment
        return f"/artifacts/{quote_ref(ref)}/{segment}"

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            response.read()
            try:
                document = response.json()
            except ValueError:
                document = None
            raise error_from_problem(response.status_code, document)

    def upload_artifact(self, ref: str, name: str, source: BinaryIO) -> StoredArtifact:
        chunks = iter(lambda: source.read(1024 * 1024), b"")
        try:
            response = self.http.put(self._artifact_path(ref, name), content=chunks,
                                     headers={"content-type": "application/octet-stream"})
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the registry at {self.url}: {exc}") from exc
        self._raise_for(response)
        return StoredArtifact.model_validate(response.json())

    def download_artifact(self, ref: str, name: str, sink: BinaryIO) -> str:
        try:
            with self.http.stream("GET", self._artifact_path(ref, name)) as response:
                self._raise_for(response)
                for chunk in response.iter_bytes(1024 * 1024):
                    sink.write(chunk)
                etag: str = response.headers.get("etag", "")
                return etag.strip('"').removeprefix("sha256:")
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the registry at {self.url}: {exc}") from exc

    # --- webhooks ---
    def create_webhook(self, namespace: str, body: WebhookCreate) -> WebhookCreated:
        path = f"/namespaces/{quote(namespace, safe='')}/webhooks"
        return WebhookCreated.model_validate(self._call("POST", path, body=body))

    def webhooks(self, namespace: str) -> list[Webhook]:
        path = f"/namespaces/{quote(namespace, safe='')}/webhooks"
        return [Webhook.model_validate(w) for w in self._call("GET", path)]

    def get_webhook(self, webhook_id: int) -> Webhook:
        return Webhook.model_validate(self._call("GET", f"/webhooks/{int(webhook_id)}"))

    def update_webhook(self, webhook_id: int, body: WebhookUpdate) -> Webhook:
        data = self._call("PATCH", f"/webhooks/{int(webhook_id)}", body=body)
        return Webhook.model_validate(data)

    def delete_webhook(self, webhook_id: int) -> Webhook:
        return Webhook.model_validate(self._call("DELETE", f"/webhooks/{int(webhook_id)}"))

    def webhook_deliveries(self, webhook_id: int,
                           query: dict[str, Any]) -> Page[WebhookDelivery]:
        data = self._call("GET", f"/webhooks/{int(webhook_id)}/deliveries", params=query)
        return Page[WebhookDelivery].model_validate(data)

    # --- aliases and lineage changes ---
    def _alias_path(self, namespace: str, name: str, alias: str | None = None) -> str:
        path = f"/models/{quote(namespace, safe='')}/{quote(name, safe='')}/aliases"
        return path if alias is None else f"{path}/{quote(alias, safe='')}"

    def set_alias(self, namespace: str, name: str, alias: str, body: AliasSet) -> Alias:
        data = self._call("PUT", self._alias_path(namespace, name, alias), body=body)
        return Alias.model_validate(data)

    def get_alias(self, namespace: str, name: str, alias: str) -> Asset:
        return Asset.model_validate(self._call("GET", self._alias_path(namespace, name, alias)))

    def aliases(self, namespace: str, name: str) -> Page[Alias]:
        return Page[Alias].model_validate(self._call("GET", self._alias_path(namespace, name)))

    def remove_alias(self, namespace: str, name: str, alias: str) -> None:
        self._call("DELETE", self._alias_path(namespace, name, alias))

    def lineage_changes(self, query: dict[str, Any]) -> Page[LineageChange]:
        data = self._call("GET", "/lineage-changes", params=query)
        return Page[LineageChange].model_validate(data)

    def lineage_change(self, change_id: int) -> LineageChange:
        return LineageChange.model_validate(self._call("GET", f"/lineage-changes/{change_id}"))

    def decide_lineage_change(self, change_id: int, verdict: str,
                              body: LineageDecision) -> LineageChange:
        data = self._call("POST", f"/lineage-changes/{change_id}/{verdict}", body=body)
        return LineageChange.model_validate(data)

    # --- lifecycle ---
    def _version_path(self, namespace: str, name: str, version: str) -> str:
        return (f"/models/{quote(namespace, safe='')}/{quote(name, safe='')}/versions/"
                f"{quote(version, safe='')}")

    def set_stage(self, namespace: str, name: str, version: str,
                  body: StageChange) -> Asset:
        path = self._version_path(namespace, name, version) + "/stage"
        return Asset.model_validate(self._call("POST", path, body=body))

    def review_version(self, namespace: str, name: str, version: str,
                       body: ApprovalIn) -> ApprovalResult:
        path = self._version_path(namespace, name, version) + "/approvals"
        return ApprovalResult.model_validate(self._call("POST", path, body=body))

    def comment_version(self, namespace: str, name: str, version: str,
                        body: CommentIn) -> Review:
        path = self._version_path(namespace, name, version) + "/comments"
        return Review.model_validate(self._call("POST", path, body=body))

    def version_reviews(self, namespace: str, name: str, version: str,
                        query: dict[str, Any]) -> Page[Review]:
        path = self._version_path(namespace, name, version) + "/reviews"
        return Page[Review].model_validate(self._call("GET", path, params=query))

    def promotion_status(self, namespace: str, name: str, version: str) -> PromotionStatus:
        path = self._version_path(namespace, name, version) + "/promotion"
        return PromotionStatus.model_validate(self._call("GET", path))

    def approval_inbox(self, query: dict[str, Any]) -> Page[ApprovalRequest]:
        return Page[ApprovalRequest].model_validate(self._call("GET", "/approvals",
                                                               params=query))

    def promotion_policy(self, namespace: str) -> PromotionPolicyOut:
        path = f"/namespaces/{quote(namespace, safe='')}/promotion-policy"
        return PromotionPolicyOut.model_validate(self._call("GET", path))

    def set_promotion_policy(self, namespace: str,
                             body: PromotionPolicyIn) -> PromotionPolicyOut:
        path = f"/namespaces/{quote(namespace, safe='')}/promotion-policy"
        return PromotionPolicyOut.model_validate(self._call("PUT", path, body=body))

    # --- integrations ---
    def reconcile_catalog(self, body: CatalogReconcileIn) -> CatalogReconcileReport:
        return CatalogReconcileReport.model_validate(
            self._call("POST", "/reconcile/catalog", body=body))

    def policy_check(self, body: PolicyCheckIn) -> PolicyCheckResult:
        return PolicyCheckResult.model_validate(self._call("POST", "/policy-check", body=body))

    # --- integrations (cards, manifests) ---
    def import_card(self, namespace: str, name: str, body: CardImport) -> CardImported:
        path = f"/models/{quote(namespace, safe='')}/{quote(name, safe='')}/card"
        return CardImported.model_validate(self._call("POST", path, body=body))

    def export_card(self, ref: str) -> str:
        # the card is Markdown, not JSON: read the text; a problem document is still JSON
        try:
            response = self.http.get(f"/assets/{quote_ref(ref)}/card")
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the registry at {self.url}: {exc}") from exc
        self._raise_for(response)
        return response.text

    def import_deployments(self, body: DeploymentsImport) -> DeploymentsImported:
        return DeploymentsImported.model_validate(
            self._call("POST", "/deployments/import", body=body))

    def import_feast(self, body: FeastImport) -> FeastImported:
        return FeastImported.model_validate(self._call("POST", "/import/feast", body=body))


def _given_params(**params: int | None) -> dict[str, int]:
    return {key: value for key, value in params.items() if value is not None}
