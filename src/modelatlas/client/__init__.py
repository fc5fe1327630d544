"""The Python SDK: one :class:`Client`, over HTTP or in-process, with the same verbs.

``Client(url)`` talks to a ``modelatlas serve`` process through the REST API;
``Client.local()`` calls the service layer (:class:`~modelatlas.registry.Registry`) in
this process. Both return the same pydantic models and raise the same
:class:`~modelatlas.errors.ModelAtlasError` subclasses: over HTTP the problem document is
turned back into the exception it came from (by its ``code``, with ``errors`` restored),
so ``except NotFound`` works either way.

Inputs are validated into the registry's request models here, before either transport
sees them, so a bad argument fails the same way (``InvalidInput`` naming the field) with
or without a server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from modelatlas.client._access import AccessAPI
from modelatlas.client._aliases import AliasesAPI, LineageChangesAPI
from modelatlas.client._artifacts import ArtifactsAPI
from modelatlas.client._attestations import AttestationsAPI
from modelatlas.client._audit import AuditAPI, AuditCheck
from modelatlas.client._deprecations import (
    DeprecationsAPI,
    ModelAtlasDeprecationWarning,
    ReportsAPI,
)
from modelatlas.client._deps import DepsAPI, environment_from_freeze, requirements_from_file
from modelatlas.client._http import _HttpTransport
from modelatlas.client._http import error_from_problem as error_from_problem
from modelatlas.client._http import quote_ref as quote_ref
from modelatlas.client._integrations import IntegrationsAPI
from modelatlas.client._lifecycle import LifecycleAPI
from modelatlas.client._lineage import LineageAPI
from modelatlas.client._local import _LocalTransport
from modelatlas.client._provenance import ProvenanceAPI
from modelatlas.client._runs import RunsAPI
from modelatlas.client._tokens import TokensAPI
from modelatlas.client._transport import _given, _Transport, _validated
from modelatlas.client._webhooks import WebhooksAPI
from modelatlas.config import Settings
from modelatlas.errors import InvalidInput
from modelatlas.notify import SignatureInvalid, verify_signature
from modelatlas.registry import (
    Asset,
    AssetCreate,
    AssetUpdate,
    Event,
    NamespaceSchema,
    Page,
    Registration,
    Registry,
    RelatedAsset,
    Relation,
    RelationCreate,
    SearchResult,
    Suggestion,
    UsageSignal,
    VersionRegistration,
)
from modelatlas.registry.alias_types import LineageChange
from modelatlas.search.taxonomy import Expansion, LoadSummary, Term, parse_vocabulary

__all__ = [
    "AliasesAPI", "AssetsAPI", "AuditAPI", "AuditCheck",
    "Client", "DeprecationsAPI", "DepsAPI", "LineageAPI", "LineageChangesAPI",
    "ModelAtlasDeprecationWarning",
    "ModelsAPI", "NamespacesAPI", "ProvenanceAPI", "RelationsAPI", "ReportsAPI", "RunsAPI",
    "SignatureInvalid", "TaxonomyAPI", "TokensAPI", "WebhooksAPI",
    "environment_from_freeze", "requirements_from_file", "verify_signature",
]


class AssetsAPI:
    """``client.assets``: create, read, update and list assets."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def create(
        self,
        ref: str,
        *,
        description: str = "",
        owners: Sequence[str] = (),
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        custom: dict[str, Any] | None = None,
        state: str | None = None,
        digests: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Asset:
        spec = _validated(AssetCreate, _given(
            ref=ref, description=description, owners=list(owners), tags=list(tags),
            metadata=metadata, custom=custom, state=state, digests=digests,
        ))
        return self._t.create_asset(spec, idempotency_key)

    def get(self, ref: str) -> Asset:
        return self._t.get_asset(ref)

    def update(
        self,
        ref: str,
        *,
        revision: int,
        description: str | None = None,
        owners: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        custom: dict[str, Any] | None = None,
        state: str | None = None,
        digests: dict[str, str] | None = None,
    ) -> Asset:
        """Apply a partial update if the asset is still at ``revision`` (else
        :class:`~modelatlas.errors.PreconditionFailed`)."""
        patch = _validated(AssetUpdate, _given(
            description=description, owners=None if owners is None else list(owners),
            tags=None if tags is None else list(tags), metadata=metadata, custom=custom,
            state=state, digests=digests,
        ))
        return self._t.update_asset(ref, patch, revision)

    def list(
        self,
        *,
        kind: str | None = None,
        namespace: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Asset]:
        query = _given(kind=kind, namespace=namespace, tag=tag, cursor=cursor, limit=limit)
        return self._t.list_assets(query)

    def iter(
        self,
        *,
        kind: str | None = None,
        namespace: str | None = None,
        tag: str | None = None,
        page_size: int = 200,
    ) -> Iterator[Asset]:
        """Every matching asset, fetching pages of ``page_size`` as it goes."""
        cursor: str | None = None
        while True:
            page = self.list(kind=kind, namespace=namespace, tag=tag, cursor=cursor,
                             limit=page_size)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def history(self, ref: str, *, cursor: str | None = None, limit: int = 100) -> Page[Event]:
        return self._t.history(ref, _given(cursor=cursor, limit=limit))

    def relations(
        self,
        ref: str,
        *,
        direction: str = "both",
        relation: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[Relation]:
        if direction not in ("out", "in", "both"):
            raise InvalidInput.at("/direction", "one of out, in, both")
        query = _given(direction=direction, relation=relation, cursor=cursor, limit=limit)
        return self._t.relations(ref, query)


class ModelsAPI:
    """``client.models``: register model versions and list them."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def register_version(
        self,
        namespace: str,
        name: str,
        registration: VersionRegistration | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Registration:
        """Register the next version of ``namespace/name``. Give a
        :class:`VersionRegistration`, a dict of its fields, keyword fields, or a mix
        (keywords win)."""
        if isinstance(registration, VersionRegistration):
            base = registration.model_dump(exclude_unset=True)
        else:
            base = dict(registration or {})
        reg = _validated(VersionRegistration, {**base, **fields})
        return self._t.register_version(namespace, name, reg, idempotency_key)

    def versions(
        self, namespace: str, name: str, *, cursor: str | None = None, limit: int = 50
    ) -> Page[Asset]:
        return self._t.list_versions(namespace, name, _given(cursor=cursor, limit=limit))


class RelationsAPI:
    """``client.relations``: add and remove typed edges."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def add(
        self,
        source: str,
        relation: str,
        target: str,
        *,
        properties: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Relation | LineageChange:
        """The edge; or, for a lineage edge of a model version in production, the change
        request a second maintainer approves (``client.lineage_changes``)."""
        spec = _validated(RelationCreate, _given(
            source=source, relation=relation, target=target, properties=properties,
        ))
        return self._t.add_relation(spec, idempotency_key)

    def remove(self, source: str, relation: str, target: str) -> LineageChange | None:
        """None once removed; a change request for a production version's lineage."""
        return self._t.remove_relation(source, relation, target)


class NamespacesAPI:
    """``client.namespaces``: per-namespace JSON Schemas for custom fields."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def set_schema(self, namespace: str, kind: str, json_schema: dict[str, Any]) -> NamespaceSchema:
        return self._t.set_schema(namespace, kind, json_schema)

    def get_schema(self, namespace: str, kind: str) -> NamespaceSchema:
        return self._t.get_schema(namespace, kind)


class TaxonomyAPI:
    """``client.taxonomy``: the vocabulary of semantic tags (terms, hierarchy, synonyms)."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def terms(
        self, *, under: str | None = None, cursor: str | None = None, limit: int = 100
    ) -> Page[Term]:
        """Terms in name order, optionally only ``under`` a term (itself included)."""
        return self._t.taxonomy_terms(_given(under=under, cursor=cursor, limit=limit))

    def get(self, term: str) -> Term:
        """A term by name or through one of its synonyms."""
        return self._t.get_term(term)

    def set(
        self,
        term: str,
        *,
        parent: str | None = None,
        description: str = "",
        synonyms: Sequence[str] | None = None,
    ) -> Term:
        """Create or update a term: parent and description become what is given; synonyms
        are replaced when given and kept when None."""
        body: dict[str, Any] = {"parent": parent, "description": description}
        if synonyms is not None:
            body["synonyms"] = list(synonyms)
        return self._t.set_term(term, body)

    def remove(self, term: str) -> None:
        """Remove a term and its synonyms (Conflict while it has narrower terms)."""
        self._t.remove_term(term)

    def add_synonym(self, term: str, synonym: str) -> Term:
        return self._t.add_synonym(term, synonym)

    def remove_synonym(self, synonym: str) -> None:
        self._t.remove_synonym(synonym)

    def load(
        self, document: str | bytes | Path | Mapping[str, Any], *, replace: bool = False
    ) -> LoadSummary:
        """Load a vocabulary document: a mapping, YAML (or JSON) text, or a file. It is
        parsed and checked here, so a bad document fails the same way on either transport."""
        if isinstance(document, Path):
            document = document.read_bytes()
        vocab = parse_vocabulary(document)
        return self._t.load_vocabulary(vocab.model_dump(mode="json", exclude_defaults=True),
                                       replace)

    def expand(self, tag: str) -> Expansion:
        """What a search for ``tag`` matches: its canonical term, narrower terms, synonyms."""
        return self._t.expand_tag(tag)


class Client:
    """A registry, remote (``Client("http://host:8080")``) or in-process
    (``Client.local()``). Use it as a context manager or call :meth:`close`."""

    def __init__(
        self, url: str, *, timeout: float = 30.0, headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> None:
        """``token``: an API token or OIDC JWT sent as ``Authorization: Bearer``; default
        ``MODELATLAS_TOKEN``."""
        if token is None and (configured := Settings().token) is not None:
            token = configured.get_secret_value()
        self._init(_HttpTransport(url, timeout=timeout, headers=headers, token=token))

    def _init(self, transport: _Transport) -> None:
        self._transport = transport
        self.assets = AssetsAPI(transport)
        self.models = ModelsAPI(transport)
        self.relations = RelationsAPI(transport)
        self.namespaces = NamespacesAPI(transport)
        self.taxonomy = TaxonomyAPI(transport)
        self.deps = DepsAPI(transport)
        self.provenance = ProvenanceAPI(transport)
        self.lineage = LineageAPI(transport)
        self.artifacts = ArtifactsAPI(transport)
        self.attestations = AttestationsAPI(transport)
        self.audit = AuditAPI(transport)
        self.runs = RunsAPI(transport)
        self.tokens = TokensAPI(transport)
        self.lifecycle = LifecycleAPI(transport)
        self.access = AccessAPI(transport)
        self.aliases = AliasesAPI(transport)
        self.lineage_changes = LineageChangesAPI(transport)
        self.webhooks = WebhooksAPI(transport)
        self.deprecations = DeprecationsAPI(transport)
        self.reports = ReportsAPI(transport)
        self.integrations = IntegrationsAPI(transport)

    @classmethod
    def local(
        cls,
        home: str | Path | None = None,
        *,
        database_url: str | None = None,
        actor: str | None = None,
    ) -> Client:
        """A client over a registry opened in this process (``MODELATLAS_*`` settings
        fill in what is not given; the database is migrated on open)."""
        overrides: dict[str, Any] = _given(
            home=None if home is None else Path(home), database_url=database_url, actor=actor
        )
        registry = Registry.open(Settings(**overrides))
        client = cls.__new__(cls)
        client._init(_LocalTransport(registry, actor))
        return client

    def events(self, *, after: int = 0, limit: int = 100) -> Page[Event]:
        """The event feed: committed changes with sequence numbers above ``after``."""
        return self._transport.events(after, limit)

    def search(
        self,
        q: str,
        *,
        facets: Sequence[str] | None = None,
        sort: str = "relevance",
        cursor: str | None = None,
        limit: int = 50,
    ) -> SearchResult:
        """Assets matching ``q`` (docs/query-language.md), one page at a time, with facet
        counts over the whole result set. ``facets=None`` counts the configured default
        facets; ``facets=[]`` none."""
        query = _given(sort=sort, cursor=cursor, limit=limit)
        if facets is not None:
            query["facets"] = list(facets)
        return self._transport.search(q, query)

    def suggest(self, q: str, *, limit: int = 10) -> list[Suggestion]:
        """Completions of the last token of ``q`` (refs, names, tags, facet values, query
        fields), ranked by learned usage, then popularity, then text."""
        return self._transport.suggest(q, limit)

    def related(self, ref: str, *, limit: int = 10) -> list[RelatedAsset]:
        """Assets sharing datasets, features, tags or lineage with ``ref``, best first."""
        return self._transport.related(ref, limit)

    def record_usage(self, signal: str, ref: str) -> None:
        """Report that ``ref`` was ``opened``, ``pulled`` or ``deployed`` (suggestions and
        related assets rank what is used higher)."""
        spec = _validated(UsageSignal, {"signal": signal, "ref": ref})
        self._transport.record_usage(spec.signal, spec.ref)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
