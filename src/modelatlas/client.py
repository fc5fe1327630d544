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

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from modelatlas.config import Settings
from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError, Unavailable
from modelatlas.registry import (
    Asset,
    AssetCreate,
    AssetUpdate,
    Event,
    NamespaceSchema,
    Page,
    Registration,
    Registry,
    Relation,
    RelationCreate,
    SearchResult,
    VersionRegistration,
)
from modelatlas.search.taxonomy import Expansion, LoadSummary, Term, parse_vocabulary

__all__ = ["AssetsAPI", "Client", "ModelsAPI", "NamespacesAPI", "RelationsAPI", "TaxonomyAPI"]

M = TypeVar("M", bound=BaseModel)
API_PREFIX = "/api/v1"


def _validated(model: type[M], data: Mapping[str, Any]) -> M:
    """Build a request model, turning pydantic's error into the registry's."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        errors = [
            FieldError("".join(f"/{part}" for part in err["loc"]), err["msg"])
            for err in exc.errors()
        ]
        raise InvalidInput(
            "; ".join(f"{e.path}: {e.message}" for e in errors), errors=errors
        ) from None


def _given(**fields: Any) -> dict[str, Any]:
    """The keyword arguments the caller actually set (None means "leave as is")."""
    return {key: value for key, value in fields.items() if value is not None}


class _Transport(Protocol):
    """One method per service operation; inputs are already validated models."""

    def create_asset(self, spec: AssetCreate, idempotency_key: str | None) -> Asset: ...
    def get_asset(self, ref: str) -> Asset: ...
    def update_asset(self, ref: str, patch: AssetUpdate, revision: int) -> Asset: ...
    def list_assets(self, query: dict[str, Any]) -> Page[Asset]: ...
    def history(self, ref: str, query: dict[str, Any]) -> Page[Event]: ...
    def relations(self, ref: str, query: dict[str, Any]) -> Page[Relation]: ...
    def register_version(
        self, namespace: str, name: str, reg: VersionRegistration, idempotency_key: str | None
    ) -> Registration: ...
    def list_versions(self, namespace: str, name: str, query: dict[str, Any]) -> Page[Asset]: ...
    def add_relation(self, spec: RelationCreate, idempotency_key: str | None) -> Relation: ...
    def remove_relation(self, source: str, relation: str, target: str) -> None: ...
    def events(self, after: int, limit: int) -> Page[Event]: ...
    def set_schema(
        self, namespace: str, kind: str, json_schema: dict[str, Any]
    ) -> NamespaceSchema: ...
    def get_schema(self, namespace: str, kind: str) -> NamespaceSchema: ...
    def taxonomy_terms(self, query: dict[str, Any]) -> Page[Term]: ...
    def get_term(self, term: str) -> Term: ...
    def set_term(self, term: str, body: dict[str, Any]) -> Term: ...
    def remove_term(self, term: str) -> None: ...
    def add_synonym(self, term: str, synonym: str) -> Term: ...
    def remove_synonym(self, synonym: str) -> None: ...
    def load_vocabulary(self, document: dict[str, Any], replace: bool) -> LoadSummary: ...
    def expand_tag(self, tag: str) -> Expansion: ...
    def search(self, q: str, query: dict[str, Any]) -> SearchResult: ...
    def close(self) -> None: ...


class _LocalTransport:
    """Calls the service layer in this process; the writes are attributed to ``actor``."""

    def __init__(self, registry: Registry, actor: str | None) -> None:
        self.registry = registry
        self.actor = actor

    def create_asset(self, spec: AssetCreate, idempotency_key: str | None) -> Asset:
        return self.registry.create_asset(
            spec, actor=self.actor, idempotency_key=idempotency_key
        )

    def get_asset(self, ref: str) -> Asset:
        return self.registry.get_asset(ref)

    def update_asset(self, ref: str, patch: AssetUpdate, revision: int) -> Asset:
        return self.registry.update_asset(
            ref, patch, expected_revision=revision, actor=self.actor
        )

    def list_assets(self, query: dict[str, Any]) -> Page[Asset]:
        return self.registry.list_assets(**query)

    def history(self, ref: str, query: dict[str, Any]) -> Page[Event]:
        return self.registry.history(ref, **query)

    def relations(self, ref: str, query: dict[str, Any]) -> Page[Relation]:
        return self.registry.relations(ref, **query)

    def register_version(
        self, namespace: str, name: str, reg: VersionRegistration, idempotency_key: str | None
    ) -> Registration:
        return self.registry.register_version(
            namespace, name, reg, actor=self.actor, idempotency_key=idempotency_key
        )

    def list_versions(self, namespace: str, name: str, query: dict[str, Any]) -> Page[Asset]:
        return self.registry.list_versions(namespace, name, **query)

    def add_relation(self, spec: RelationCreate, idempotency_key: str | None) -> Relation:
        return self.registry.add_relation(
            spec, actor=self.actor, idempotency_key=idempotency_key
        )

    def remove_relation(self, source: str, relation: str, target: str) -> None:
        self.registry.remove_relation(source, relation, target, actor=self.actor)

    def events(self, after: int, limit: int) -> Page[Event]:
        return self.registry.events(after=after, limit=limit)

    def set_schema(self, namespace: str, kind: str, json_schema: dict[str, Any]) -> NamespaceSchema:
        return self.registry.set_namespace_schema(namespace, kind, json_schema, actor=self.actor)

    def get_schema(self, namespace: str, kind: str) -> NamespaceSchema:
        return self.registry.get_namespace_schema(namespace, kind)

    def taxonomy_terms(self, query: dict[str, Any]) -> Page[Term]:
        return self.registry.taxonomy_terms(**query)

    def get_term(self, term: str) -> Term:
        return self.registry.get_term(term)

    def set_term(self, term: str, body: dict[str, Any]) -> Term:
        return self.registry.set_term(term, **body, actor=self.actor)

    def remove_term(self, term: str) -> None:
        self.registry.remove_term(term, actor=self.actor)

    def add_synonym(self, term: str, synonym: str) -> Term:
        return self.registry.add_synonym(term, synonym, actor=self.actor)

    def remove_synonym(self, synonym: str) -> None:
        self.registry.remove_synonym(synonym, actor=self.actor)

    def load_vocabulary(self, document: dict[str, Any], replace: bool) -> LoadSummary:
        return self.registry.load_vocabulary(document, replace=replace, actor=self.actor)

    def expand_tag(self, tag: str) -> Expansion:
        return self.registry.expand_tag(tag)

    def search(self, q: str, query: dict[str, Any]) -> SearchResult:
        return self.registry.search(q, **query)

    def close(self) -> None:
        self.registry.close()


def _error_classes() -> dict[str, type[ModelAtlasError]]:
    """Every ModelAtlasError subclass by its stable code."""
    found: dict[str, type[ModelAtlasError]] = {}
    pending: list[type[ModelAtlasError]] = [ModelAtlasError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


_ERRORS_BY_CODE = _error_classes()


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
    cls = _ERRORS_BY_CODE.get(str(document.get("code")), ModelAtlasError)
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

    def __init__(self, url: str, *, timeout: float, headers: dict[str, str] | None) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.url + API_PREFIX, timeout=timeout, headers=headers or {}
        )

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
        return response.json() if response.content else None

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

    def add_relation(self, spec: RelationCreate, idempotency_key: str | None) -> Relation:
        data = self._call("POST", "/relations", body=spec, idempotency_key=idempotency_key)
        return Relation.model_validate(data)

    def remove_relation(self, source: str, relation: str, target: str) -> None:
        params = {"source": source, "relation": relation, "target": target}
        self._call("DELETE", "/relations", params=params)

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

    def close(self) -> None:
        self.http.close()


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
    ) -> Relation:
        spec = _validated(RelationCreate, _given(
            source=source, relation=relation, target=target, properties=properties,
        ))
        return self._t.add_relation(spec, idempotency_key)

    def remove(self, source: str, relation: str, target: str) -> None:
        self._t.remove_relation(source, relation, target)


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
        self, url: str, *, timeout: float = 30.0, headers: dict[str, str] | None = None
    ) -> None:
        self._init(_HttpTransport(url, timeout=timeout, headers=headers))

    def _init(self, transport: _Transport) -> None:
        self._transport = transport
        self.assets = AssetsAPI(transport)
        self.models = ModelsAPI(transport)
        self.relations = RelationsAPI(transport)
        self.namespaces = NamespacesAPI(transport)
        self.taxonomy = TaxonomyAPI(transport)

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
