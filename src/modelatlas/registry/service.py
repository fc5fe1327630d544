"""The service layer: the only place that opens transactions, validates input and appends
events. The API, CLI, in-process SDK and (later) the UI all call these methods."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import jsonschema
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.config import Settings
from modelatlas.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    MetadataInvalid,
    NotFound,
    PreconditionFailed,
    Unavailable,
)
from modelatlas.events import Action
from modelatlas.governance.grants import readable_clause
from modelatlas.governance.policy import Target
from modelatlas.governance.principal import Principal
from modelatlas.jsonsafe import canonical, check_tree
from modelatlas.kinds import check_version_policy
from modelatlas.kinds.uris import scheme_policy
from modelatlas.refs import Ref, check_kind, check_namespace
from modelatlas.registry import _queries as q
from modelatlas.registry._access import AccessService
from modelatlas.registry._aliases import AliasService, asset_or_alias
from modelatlas.registry._artifacts import ArtifactService
from modelatlas.registry._attestations import AttestationService
from modelatlas.registry._audit import AuditService
from modelatlas.registry._badges import BadgeService
from modelatlas.registry._deprecation import DeprecationService
from modelatlas.registry._deps import DepsService
from modelatlas.registry._feast_import import FeastImportService
from modelatlas.registry._guards import (
    VERSION_KINDS,
    audited_namespaces,
    check_read,
    hidden_as_missing,
    input_guard,
    promotes,
    really_changed,
    tags_of,
)
from modelatlas.registry._impact import ImpactService
from modelatlas.registry._integrations import IntegrationService
from modelatlas.registry._lifecycle import LifecycleService
from modelatlas.registry._lineage import LineageService
from modelatlas.registry._lineage_changes import LineageChangeService
from modelatlas.registry._mlflow_import import MlflowImportService
from modelatlas.registry._openlineage import OpenLineageService
from modelatlas.registry._policy_check import PolicyCheckService
from modelatlas.registry._provenance import ProvenanceService
from modelatlas.registry._reconcile import ReconcileService
from modelatlas.registry._registration import register_version
from modelatlas.registry._revalidation import after_create, after_link, after_update
from modelatlas.registry._rows import check_limit, utcnow
from modelatlas.registry._runs import RunService
from modelatlas.registry._sealing import with_plaintext
from modelatlas.registry._search import SearchService
from modelatlas.registry._sensitive import SensitiveService
from modelatlas.registry._suggest import SuggestService
from modelatlas.registry._taxonomy import TaxonomyService
from modelatlas.registry._tokens import TokenService
from modelatlas.registry._tx import WriteTx, snapshot_of
from modelatlas.registry._updates import updated_values
from modelatlas.registry._webhooks import WebhookService
from modelatlas.registry._withdrawal import WithdrawalService, check_state_write
from modelatlas.registry.alias_types import LineageChange
from modelatlas.registry.types import (
    Asset,
    AssetCreate,
    AssetUpdate,
    Event,
    NamespaceSchema,
    Page,
    Registration,
    Relation,
    RelationCreate,
    VersionRegistration,
)
from modelatlas.store.engine import Database
from modelatlas.store.migrate import upgrade
from modelatlas.store.tables import asset_tags, assets, idempotency_keys, namespace_schemas
from modelatlas.store.tables import relations as relations_table

R = TypeVar("R", bound=BaseModel)
Direction = Literal["out", "in", "both"]


def _as_ref(ref: str | Ref, path: str = "/ref") -> Ref:
    return Ref.coerce(ref, path=path)


class Registry(SearchService, SuggestService, TaxonomyService, DepsService, ImpactService,
               ProvenanceService, LineageService, OpenLineageService, WithdrawalService,
               AttestationService, AuditService, RunService, TokenService, AccessService,
               ArtifactService,
               DeprecationService,
               LifecycleService,
               AliasService, LineageChangeService,
               SensitiveService,
               WebhookService,
               ReconcileService, PolicyCheckService,
               IntegrationService,
               MlflowImportService, FeastImportService,
               BadgeService):
    """ModelAtlas's service layer over one database."""

    def __init__(self, db: Database, settings: Settings | None = None) -> None:
        self.db = db
        self.settings = settings or Settings()

    @classmethod
    def open(cls, settings: Settings | None = None, *, migrate: bool = True) -> Registry:
        settings = settings or Settings()
        try:
            db = Database(settings.resolved_database_url())
            if migrate:
                upgrade(db)
        except (sa_exc.ArgumentError, sa_exc.OperationalError, ValueError) as exc:
            # a URL that cannot be parsed, names an unsupported database or does not answer
            # is a configuration mistake: one clear error for the CLI, the SDK and the server
            reason = str(exc).splitlines()[0]
            raise Unavailable(
                f"cannot open the database: {reason}",
                errors=[FieldError("MODELATLAS_DATABASE_URL",
                                   "check MODELATLAS_DATABASE_URL (or MODELATLAS_HOME for "
                                   "the default SQLite file)")],
            ) from None
        return cls(db, settings)

    def close(self) -> None:
        queued = self.__dict__.get("_usage")
        if queued is not None:
            queued.close()  # writes what is queued before the engines go
        self.db.dispose()

    # transactions -----------------------------------------------------------------------
    @contextmanager
    def _write(self, actor: str | None) -> Iterator[WriteTx]:
        # metadata URIs written in this transaction are checked against this registry's
        # allow-list (kinds/uris.py)
        with self.db.write() as conn, scheme_policy(self.settings.uri_schemes):
            tx = WriteTx(conn, actor or self.settings.actor, keyring=self.data_keyring)
            yield tx
            tx.flush_events()

    def _idempotent(
        self,
        *,
        key: str | None,
        operation: str,
        request: BaseModel,
        result_type: type[R],
        actor: str | None,
        work: Callable[[WriteTx], R],
    ) -> R:
        """Run ``work`` in one write transaction; with a key, a retry returns the first
        result instead of writing twice (the key is stored in the same transaction)."""
        if key is None:
            with self._write(actor) as tx:
                return work(tx)
        if not 1 <= len(key) <= 200:
            raise InvalidInput.at("/idempotency_key", "1-200 characters")
        body = request.model_dump(mode="json")
        digest = hashlib.sha256(canonical([operation, body])).hexdigest()
        for _attempt in range(2):
            try:
                with self._write(actor) as tx:
                    stored = tx.conn.execute(
                        sa.select(idempotency_keys).where(idempotency_keys.c.key == key)
                    ).first()
                    if stored is not None:
                        if stored.request_sha256 != digest or stored.operation != operation:
                            raise Conflict(
                                "Idempotency-Key was used for a different request",
                                errors=[FieldError("/idempotency_key", "reused")],
                            )
                        return result_type.model_validate_json(stored.response)
                    result = work(tx)
                    tx.conn.execute(
                        idempotency_keys.insert().values(
                            key=key, operation=operation, request_sha256=digest,
                            response=result.model_dump_json(), created_at=tx.now,
                        )
                    )
                    return result
            except IntegrityError:
                continue  # a concurrent request with the same key won: read its answer
        raise Conflict("Idempotency-Key is in use by a concurrent request; retry")

    # assets -----------------------------------------------------------------------------
    def create_asset(
        self, spec: AssetCreate, *, actor: str | None = None,
        idempotency_key: str | None = None, principal: Principal | None = None,
    ) -> Asset:
        ref = Ref.parse(spec.ref)
        check_version_policy(ref, "/ref")
        check_state_write(ref.kind, None, spec.state or "")  # withdrawn: only by withdraw
        _check_values(spec)
        # a model version made by hand is a registration, whatever the route
        action = "version.register" if ref.kind in VERSION_KINDS else "asset.create"
        self.authorize(principal, action, ref.namespace, ref=str(ref), kind=ref.kind)
        if promotes(ref.kind, [], spec.tags):
            self.authorize(principal, "stage.change", ref.namespace, ref=str(ref),
                           kind=ref.kind)

        def work(tx: WriteTx) -> Asset:
            asset_id, _ = tx.insert_asset(ref, spec)
            after_create(tx, asset_id, ref)  # marks what a new dependency version affects
            return tx.load(asset_id)

        created = self._idempotent(
            key=idempotency_key, operation="create_asset", request=spec,
            result_type=Asset, actor=self.acting(principal, actor), work=work,
        )
        return self.reveal_one(principal, created)  # stored (and kept for retries) redacted

    def get_asset(self, ref: str | Ref, *, principal: Principal | None = None) -> Asset:
        parsed = _as_ref(ref)
        with self.db.read() as conn:
            asset = asset_or_alias(conn, parsed)  # model_version:ns/name@<alias> too
        self.authorize_read(principal, asset.ref, asset.namespace, asset.kind, asset.tags)
        return self.reveal_one(principal, asset)  # sensitive fields: for sensitive.read

    def update_asset(
        self,
        ref: str | Ref,
        patch: AssetUpdate,
        *,
        expected_revision: int,
        actor: str | None = None,
        principal: Principal | None = None,
    ) -> Asset:
        """Apply ``patch`` if the asset is still at ``expected_revision`` (else 412).
        Needs ``asset.update``; the fields it really changes decide (a registered version's
        metadata and digests never change) and so do the stored tags (an unreadable asset
        is a missing one; setting or clearing ``promoted`` on a version is a promotion)."""
        parsed = _as_ref(ref)
        _check_values(patch)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            # FOR UPDATE: a concurrent writer of the same asset waits here and then sees the
            # new revision, instead of passing this check with a stale read.
            row = tx.conn.execute(
                sa.select(assets)
                .where(assets.c.id == tx.require_id(parsed, "/ref"))
                .with_for_update()
            ).one()
            current = q.asset_from_row(row)
            plain = tx.sealing.unseal(row.id, current)  # sensitive values, for the merge
            current = with_plaintext(current, plain)
            check_read(self.check_access, tx.conn, principal, parsed, frozenset(current.tags))
            if current.revision != expected_revision:
                raise PreconditionFailed(
                    f"{parsed} is at revision {current.revision}, not {expected_revision}",
                    errors=[FieldError("/revision", f"current revision is {current.revision}")],
                )
            values = updated_values(tx, current, patch)
            self._check_update(tx, principal, current, values)
            changed = sorted(k for k, v in patch.model_dump(exclude_unset=True).items())
            tx.sealing.reseal(row.id, current.namespace, current.kind, values, plain)
            updated = tx.conn.execute(
                assets.update()
                .where(assets.c.id == row.id, assets.c.revision == expected_revision)
                .values(values)
            ).rowcount
            if updated != 1:
                raise PreconditionFailed(
                    f"{parsed} changed while this update was applied",
                    errors=[FieldError("/revision", "stale revision")],
                )
            if patch.tags is not None:
                tx.conn.execute(asset_tags.delete().where(asset_tags.c.asset_id == row.id))
                if values["tags"]:
                    tx.conn.execute(
                        asset_tags.insert(),
                        [{"asset_id": row.id, "tag": t} for t in values["tags"]],
                    )
            payload = snapshot_of(str(parsed), values)
            payload["changed"] = changed
            tx.emit(Action.ASSET_UPDATED, str(parsed), payload, row.id)
            after_update(tx, current, values)  # revalidation marks set or cleared
            answer = tx.load(row.id)
        return self.reveal_one(principal, answer)  # after the commit: it reads the seals

    def _check_update(self, tx: WriteTx, principal: Principal | None, current: Asset,
                      values: dict[str, Any]) -> None:
        """``asset.update`` on the stored row, inside the update's transaction; checked for
        the embedded user too, since immutability binds everyone."""
        target = Target(ref=current.ref, kind=current.kind, tags=frozenset(current.tags),
                        registered=current.kind in VERSION_KINDS,
                        fields=really_changed(current, values))
        self.check_access(tx.conn, principal, "asset.update", current.namespace, target)
        if promotes(current.kind, current.tags, values["tags"]):
            self.check_access(tx.conn, principal, "stage.change", current.namespace, target)

    def list_assets(
        self,
        *,
        kind: str | None = None,
        namespace: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        principal: Principal | None = None,
    ) -> Page[Asset]:
        """A page of the assets the caller may read (filtered in the query, so pages stay
        full and cursors right)."""
        if kind is not None:
            check_kind(kind, path="/kind")
        if namespace is not None:
            check_namespace(namespace, path="/namespace")
        check_limit(limit, self.settings.page_limit_max)
        visible = self._visible(principal)
        with self.db.read() as conn:
            page = q.list_assets(conn, kind=kind, namespace=namespace, tag=tag,
                                 cursor=cursor, limit=limit, visible=visible)
        return self.reveal_page(principal, page)

    def _visible(self, principal: Principal | None,
                 table: Any = assets) -> ColumnElement[bool] | None:
        """The WHERE condition keeping what the caller may read; ``None`` (no condition,
        the query unchanged) for the embedded user."""
        if principal is None or principal.is_local:
            return None
        return readable_clause(self.readable(principal), table)

    # model versions ---------------------------------------------------------------------
    def register_version(
        self,
        namespace: str,
        name: str,
        registration: VersionRegistration,
        *,
        actor: str | None = None,
        idempotency_key: str | None = None,
        principal: Principal | None = None,
    ) -> Registration:
        """Register the next version of a model with its inputs, in one transaction.
        Needs ``version.register`` in the model's namespace; inputs it names must be
        readable, and those it describes inline are created where their refs say (with
        ``asset.create`` there)."""
        model = Ref.of("model", namespace, name)
        _check_values(registration)
        self.authorize(principal, "version.register", namespace, ref=str(model),
                       kind="model_version")
        self.check_initial_stage(namespace, registration.state, ref=str(model),
                                 principal=principal)  # starting past registered
        if promotes("model_version", [], registration.tags):
            self.authorize(principal, "stage.change", namespace, ref=str(model),
                           kind="model_version")

        def work(tx: WriteTx) -> Registration:
            guard = input_guard(self.check_access, tx.conn, principal)
            return self._attest_registered(tx, register_version(tx, model, registration,
                                                                guard=guard))

        with hidden_as_missing(), self.denials_recorded():
            result = self._idempotent(
                key=idempotency_key,
                operation=f"register_version:{model}",
                request=registration,
                result_type=Registration,
                actor=self.acting(principal, actor),
                work=work,
            )
        if registration.derived_from:
            self.note_usage("derived", registration.derived_from)
        return result

    def list_versions(
        self, namespace: str, name: str, *, cursor: str | None = None, limit: int = 50,
        principal: Principal | None = None,
    ) -> Page[Asset]:
        """The model's versions the caller may read (in a promoted-only namespace, readers
        below maintainer see the promoted ones)."""
        model = Ref.of("model", namespace, name)
        check_limit(limit, self.settings.page_limit_max)
        self.get_asset(model, principal=principal)  # 404 for an unknown or unreadable model
        visible = self._visible(principal)
        with self.db.read() as conn:
            page = q.list_versions(conn, model, cursor=cursor, limit=limit, visible=visible)
        return self.reveal_page(principal, page)

    # relations --------------------------------------------------------------------------
    def add_relation(
        self, spec: RelationCreate, *, actor: str | None = None,
        idempotency_key: str | None = None, principal: Principal | None = None,
    ) -> Relation | LineageChange:
        """Link two assets: ``relation.add`` in the source's namespace, and both ends must
        be readable (an unreadable end is answered as a missing one). A lineage edge of a
        version in production is a change request instead (registry/_lineage_changes.py)."""
        source = Ref.parse(spec.source, path="/source")
        target = Ref.parse(spec.target, path="/target")
        _check_values(spec)
        if self.lineage_gated(principal, spec.relation, source, target):
            return self.request_lineage_change("add", source, spec.relation, target,
                                               spec.properties, actor=actor, principal=principal)

        def work(tx: WriteTx) -> Relation:
            source_id, target_id = self._edge_ends(tx, principal, source, target)
            self.check_access(tx.conn, principal, "relation.add", source.namespace,
                              Target(ref=str(source), kind=source.kind))
            self.check_ungated(tx, principal, spec.relation, ((source_id, source),
                                                              (target_id, target)))
            linked = tx.link((source_id, source), spec.relation, (target_id, target),
                             spec.properties)
            after_link(tx, source_id, source)  # an evaluation's evidence may clear marks
            return linked

        with hidden_as_missing(), self.denials_recorded():
            added = self._idempotent(
                key=idempotency_key, operation="add_relation", request=spec,
                result_type=Relation, actor=self.acting(principal, actor), work=work,
            )
        if spec.relation == "serves":
            self.note_usage("deployed", [target])
        return added

    def remove_relation(
        self, source: str, relation: str, target: str, *, actor: str | None = None,
        principal: Principal | None = None,
    ) -> LineageChange | None:
        """Remove a link: ``relation.remove`` in the source's namespace (a lineage edge of a
        version in production: a change request, answered)."""
        source_ref = Ref.parse(source, path="/source")
        target_ref = Ref.parse(target, path="/target")
        if self.lineage_gated(principal, relation, source_ref, target_ref):
            return self.request_lineage_change("remove", source_ref, relation, target_ref,
                                               actor=actor, principal=principal)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            source_id, target_id = self._edge_ends(tx, principal, source_ref, target_ref)
            self.check_access(tx.conn, principal, "relation.remove", source_ref.namespace,
                              Target(ref=str(source_ref), kind=source_ref.kind))
            self.check_ungated(tx, principal, relation, ((source_id, source_ref),
                                                         (target_id, target_ref)))
            deleted = tx.conn.execute(
                relations_table.delete().where(
                    relations_table.c.source_id == source_id,
                    relations_table.c.relation == relation,
                    relations_table.c.target_id == target_id,
                )
            ).rowcount
            if not deleted:
                raise NotFound(f"{source} {relation} {target} does not exist")
            payload = {"source": str(source_ref), "relation": relation, "target": str(target_ref)}
            tx.emit(Action.RELATION_REMOVED, str(source_ref), payload, source_id)
            return None

    def _edge_ends(self, tx: WriteTx, principal: Principal | None, source: Ref,
                   target: Ref) -> tuple[int, int]:
        """The ids of an edge's ends, each readable by the caller (else 404 at its path)."""
        found = []
        for ref, path in ((source, "/source"), (target, "/target")):
            asset_id = tx.require_id(ref, path)
            if principal is not None and not principal.is_local:
                check_read(self.check_access, tx.conn, principal, ref,
                           tags_of(tx.conn, asset_id), path)
            found.append(asset_id)
        return found[0], found[1]

    def relations(
        self,
        ref: str | Ref,
        *,
        direction: Direction = "both",
        relation: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        principal: Principal | None = None,
    ) -> Page[Relation]:
        """The asset's edges whose other end the caller may read too (filtered in the
        query, so pages and cursors stay right)."""
        parsed = _as_ref(ref)
        if direction not in ("out", "in", "both"):
            raise InvalidInput.at("/direction", "one of out, in, both")
        check_limit(limit, self.settings.page_limit_max)
        self.get_asset(parsed, principal=principal)  # 404 for a missing or unreadable one
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            return q.relations_of(conn, asset_id, direction=direction, relation=relation,
                                  cursor=cursor, limit=limit,
                                  visible=lambda end: self._visible(principal, end))

    # history and events -----------------------------------------------------------------
    def history(
        self, ref: str | Ref, *, cursor: str | None = None, limit: int = 100,
        principal: Principal | None = None,
    ) -> Page[Event]:
        parsed = _as_ref(ref)
        check_limit(limit, self.settings.page_limit_max)
        self.get_asset(parsed, principal=principal)  # 404 for a missing or unreadable one
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            return q.history(conn, asset_id, cursor=cursor, limit=limit)

    def events(self, *, after: int = 0, limit: int = 100,
               principal: Principal | None = None) -> Page[Event]:
        """The feed, filtered in the query to what the caller may see.

        An event about an asset is shown to whoever may read that asset now (the feed is a
        view of the graph, like search). An event about no stored asset (grants, policies,
        schemas, denied attempts) is audit material: it is shown where the caller holds
        ``audit.read`` (maintainer) in the namespace its ref names. So a viewer follows the
        changes to what they can see without learning who tried what, or who holds which
        role; the local user and registry-wide maintainers see everything.
        """
        if after < 0:
            raise InvalidInput.at("/after", "must be >= 0")
        check_limit(limit, self.settings.page_limit_max)
        visible = None
        if principal is not None and not principal.is_local:
            readable = self.readable(principal)
            visible = q.visible_events(readable, audited=audited_namespaces(readable,
                                                                           principal))
        with self.db.read() as conn:
            return q.events_after(conn, after=after, limit=limit, visible=visible)

    # namespace custom-field schemas -----------------------------------------------------
    def set_namespace_schema(
        self, namespace: str, kind: str, json_schema: dict[str, Any], *,
        actor: str | None = None, principal: Principal | None = None,
    ) -> NamespaceSchema:
        """Let a namespace validate the ``custom`` fields of one kind with a JSON Schema
        (``schema.manage``, maintainer)."""
        check_namespace(namespace)
        check_kind(kind)
        self.authorize(principal, "schema.manage", namespace, ref=f"namespace:{namespace}")
        check_tree(json_schema, path="/json_schema")
        try:
            jsonschema.Draft202012Validator.check_schema(json_schema)
        except jsonschema.SchemaError as exc:
            raise MetadataInvalid.at(
                "/json_schema", f"not a valid JSON Schema: {exc.message}"
            ) from None
        _refuse_remote_refs(json_schema)
        with self._write(self.acting(principal, actor)) as tx:
            table = namespace_schemas
            key = (table.c.namespace == namespace) & (table.c.kind == kind)
            values = {"json_schema": json_schema, "updated_at": tx.now, "updated_by": tx.actor}
            if tx.conn.execute(sa.select(table.c.kind).where(key)).first():
                tx.conn.execute(table.update().where(key).values(values))
            else:
                tx.conn.execute(table.insert().values(namespace=namespace, kind=kind, **values))
            tx.emit(Action.NAMESPACE_SCHEMA_SET, f"namespace:{namespace}",
                    {"kind": kind, "json_schema": json_schema}, None)
            return NamespaceSchema(namespace=namespace, kind=kind, **values)

    def get_namespace_schema(self, namespace: str, kind: str, *,
                             principal: Principal | None = None) -> NamespaceSchema:
        """Anyone who may read the namespace (``asset.read``, viewer) may read its schemas:
        they say what its assets' custom fields hold."""
        check_namespace(namespace)
        self.authorize(principal, "asset.read", namespace, ref=f"namespace:{namespace}")
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(namespace_schemas).where(
                    namespace_schemas.c.namespace == namespace, namespace_schemas.c.kind == kind
                )
            ).first()
        if row is None:
            raise NotFound(f"namespace {namespace} has no custom-field schema for {kind}")
        return NamespaceSchema.model_validate(row._asdict())

    def ping(self) -> None:
        """Raise if the database cannot answer (readiness)."""
        with self.db.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def now(self) -> str:
        return utcnow()


def _check_values(value: BaseModel) -> None:
    """What the API refuses in a body, in-process callers cannot slip in either."""
    check_tree(value.model_dump(mode="python", exclude_defaults=True))


def _refuse_remote_refs(schema: Any, path: str = "/json_schema") -> None:
    """A registry never fetches schemas from the network: only local ``#...`` refs."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("$ref", "$dynamicRef") and not str(value).startswith("#"):
                raise MetadataInvalid.at(
                    f"{path}/{key}", "only local references (#/...) are allowed"
                )
            _refuse_remote_refs(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            _refuse_remote_refs(value, f"{path}/{index}")
