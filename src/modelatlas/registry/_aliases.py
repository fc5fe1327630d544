"""Model aliases, mixed into :class:`Registry`: named pointers (``champion``,
``challenger``) from a model to one of its versions.

Setting or removing an alias needs ``alias.set`` (contributor) in the model's namespace, or
``alias.set_protected`` (maintainer) for an alias the namespace's policy protects
(``champion`` by default): the policy rule raises the role, so the check is the one
``authorize`` call with ``alias=`` given. Alias names start with a letter, so they can never
be read as a version number: ``model_version:fraud/churn@champion`` is unambiguous, and
:func:`asset_or_alias` resolves it wherever an asset is read by its ref.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from modelatlas.errors import Conflict, FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import check_read, hidden_as_missing, require_readable, tags_of
from modelatlas.registry._rows import asset_from_row, format_ref
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.alias_types import Alias, AliasSet
from modelatlas.registry.types import Asset, Page
from modelatlas.store.tables import assets, model_aliases

if TYPE_CHECKING:
    from modelatlas.registry._tx import WriteTx

ALIAS_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")

_MODEL = assets.alias("alias_model")
_VERSION = assets.alias("alias_version")
# the version an alias of a model (named by kind, namespace and name) points at
_RESOLVE = (
    sa.select(_VERSION)
    .select_from(model_aliases
                 .join(_MODEL, _MODEL.c.id == model_aliases.c.model_id)
                 .join(_VERSION, _VERSION.c.id == model_aliases.c.version_id))
    .where(_MODEL.c.kind == "model", _MODEL.c.namespace == sa.bindparam("namespace"),
           _MODEL.c.name == sa.bindparam("name"), _MODEL.c.version == "",
           model_aliases.c.alias == sa.bindparam("alias"))
)


def is_alias(text: str) -> bool:
    return ALIAS_PATTERN.match(text) is not None


def check_alias(alias: str, path: str = "/alias") -> str:
    if not is_alias(alias):
        raise InvalidInput.at(path, "an alias is 1-64 lowercase letters, digits, '-' or '_', "
                                    "starting with a letter (so it never reads as a version)")
    return alias


def asset_or_alias(conn: Connection, ref: Ref) -> Asset:
    """The asset ``ref`` names; a model version whose "version" is an alias of its model
    (``model_version:fraud/churn@champion``) is the version the alias points at. Costs one
    more indexed lookup, only when the first finds nothing."""
    try:
        return q.get_asset(conn, ref)
    except NotFound:
        if ref.kind != "model_version" or ref.version is None or not is_alias(ref.version):
            raise
        row = conn.execute(_RESOLVE, {"namespace": ref.namespace, "name": ref.name,
                                      "alias": ref.version}).first()
        if row is None:
            raise
        return asset_from_row(row)


def _version_ref(model: Ref, body: AliasSet | Mapping[str, Any]) -> Ref:
    """The version an alias is set to: a number, or a ref that must name this model's
    version (any other asset is refused, 422)."""
    try:
        spec = body if isinstance(body, AliasSet) else AliasSet.model_validate(dict(body))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None
    text = str(spec.version)
    if ":" not in text:
        return Ref.of("model_version", model.namespace, model.name, text)
    version = Ref.parse(text, path="/version")
    if (version.kind, version.namespace, version.name) != ("model_version", model.namespace,
                                                           model.name) or not version.version:
        raise InvalidInput.at("/version", f"a version of {model}, e.g. "
                                          f"model_version:{model.namespace}/{model.name}@1")
    return version


class AliasService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def _alias_target(self, namespace: str, name: str, alias: str,
                      principal: Principal | None) -> Ref:
        """The model, checked: a valid alias name, a model the caller may read (else 404)."""
        check_alias(alias)
        model = Ref.of("model", namespace, name)
        require_readable(self, principal, model)
        return model

    def set_alias(self, namespace: str, name: str, alias: str,
                  body: AliasSet | Mapping[str, Any], *, actor: str | None = None,
                  principal: Principal | None = None) -> Alias:
        """Point ``alias`` at a version of the model (setting it to where it points already
        changes nothing and appends no event)."""
        model = self._alias_target(namespace, name, alias, principal)
        version = _version_ref(model, body)
        self.authorize(principal, "alias.set", namespace, ref=str(model), kind="model",
                       alias=alias)
        try:
            with (hidden_as_missing(), self.denials_recorded(),
                  self._write(self.acting(principal, actor)) as tx):
                model_id = tx.require_id(model, "/ref")
                version_id = tx.require_id(version, "/version")
                check_read(self.check_access, tx.conn, principal, version,
                           tags_of(tx.conn, version_id), "/version")
                return _upsert(tx, (model_id, model), alias, (version_id, version))
        except IntegrityError:
            raise Conflict(f"alias {alias} was set concurrently; retry") from None

    def get_alias(self, namespace: str, name: str, alias: str, *,
                  principal: Principal | None = None) -> Asset:
        """The version ``alias`` points at (404 when the alias is not set, or the caller
        may not read the version)."""
        self._alias_target(namespace, name, alias, principal)
        with self.db.read() as conn:
            row = conn.execute(_RESOLVE, {"namespace": namespace, "name": name,
                                          "alias": alias}).first()
        if row is None:
            raise NotFound(f"model:{namespace}/{name} has no alias {alias}",
                           errors=[FieldError("/alias", "no such alias")])
        version = asset_from_row(row)
        self.authorize_read(principal, version.ref, version.namespace, version.kind,
                            version.tags)
        return version

    def aliases(self, namespace: str, name: str, *,
                principal: Principal | None = None) -> Page[Alias]:
        """The model's aliases, by name, that point at versions the caller may read (a
        model has a handful, so one page holds them all)."""
        model = Ref.of("model", namespace, name)
        require_readable(self, principal, model)
        stmt = (sa.select(model_aliases.c.alias, model_aliases.c.set_by, model_aliases.c.set_at,
                          _VERSION.c.version)
                .select_from(model_aliases
                             .join(_MODEL, _MODEL.c.id == model_aliases.c.model_id)
                             .join(_VERSION, _VERSION.c.id == model_aliases.c.version_id))
                .where(_MODEL.c.kind == "model", _MODEL.c.namespace == namespace,
                       _MODEL.c.name == model.name, _MODEL.c.version == "")
                .order_by(model_aliases.c.alias))
        visible = self._visible(principal, _VERSION)
        if visible is not None:
            stmt = stmt.where(visible)
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        return Page(items=[
            Alias(model=str(model), alias=r.alias, set_by=r.set_by, set_at=r.set_at,
                  version=format_ref("model_version", namespace, model.name, r.version))
            for r in rows], next_cursor=None)

    def remove_alias(self, namespace: str, name: str, alias: str, *,
                     actor: str | None = None, principal: Principal | None = None) -> None:
        """Remove ``alias`` (the same right as setting it)."""
        model = self._alias_target(namespace, name, alias, principal)
        self.authorize(principal, "alias.set", namespace, ref=str(model), kind="model",
                       alias=alias)
        with self._write(self.acting(principal, actor)) as tx:
            model_id = tx.require_id(model, "/ref")
            where = (model_aliases.c.model_id == model_id) & (model_aliases.c.alias == alias)
            row = tx.conn.execute(
                sa.select(assets.c.version)
                .select_from(model_aliases.join(assets,
                                                assets.c.id == model_aliases.c.version_id))
                .where(where)).first()
            if row is None:
                raise NotFound(f"{model} has no alias {alias}",
                               errors=[FieldError("/alias", "no such alias")])
            tx.conn.execute(model_aliases.delete().where(where))
            previous = format_ref("model_version", namespace, model.name, row.version)
            tx.emit(Action.ALIAS_REMOVED, str(model),
                    {"alias": alias, "version": None, "previous": previous}, model_id)


def _upsert(tx: WriteTx, model: tuple[int, Ref], alias: str,
            version: tuple[int, Ref]) -> Alias:
    (model_id, model_ref), (version_id, version_ref) = model, version
    where = (model_aliases.c.model_id == model_id) & (model_aliases.c.alias == alias)
    row = tx.conn.execute(sa.select(model_aliases).where(where).with_for_update()).first()
    if row is not None and row.version_id == version_id:
        return Alias(model=str(model_ref), alias=alias, version=str(version_ref),
                     set_by=row.set_by, set_at=row.set_at)
    values = {"version_id": version_id, "set_by": tx.actor, "set_at": tx.now}
    previous = None
    if row is None:
        tx.conn.execute(model_aliases.insert().values(model_id=model_id, alias=alias, **values))
    else:
        old = tx.conn.execute(sa.select(assets.c.version)
                              .where(assets.c.id == row.version_id)).scalar_one()
        previous = format_ref("model_version", model_ref.namespace, model_ref.name, old)
        tx.conn.execute(model_aliases.update().where(where).values(values))
    tx.emit(Action.ALIAS_SET, str(model_ref),
            {"alias": alias, "version": str(version_ref), "previous": previous}, model_id)
    return Alias(model=str(model_ref), alias=alias, version=str(version_ref),
                 set_by=tx.actor, set_at=tx.now)
