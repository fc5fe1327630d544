"""Deprecating a model version, mixed into :class:`Registry`.

A deprecation is a plan: a sunset (when the version stops being supported), a reason and,
optionally, the version to move to. It does not change the version's stage: a production
version can be deprecated and keep serving until its sunset. One write transaction
records the plan (table ``deprecations``), finds the version's direct consumers through
lineage (deployments that ``serves`` it, model versions ``derived_from`` it, runs,
evaluations and deployments that ``used`` it: one hop, read from the relations index),
appends ``version.deprecated`` on the version (counts only: the owning team's event names
no other team's assets) and one ``deprecation.notice`` per consumer namespace, whose ref is
``namespace:<consumer namespace>`` and whose payload names the deprecated version, its plan
and that namespace's consumers only (so a webhook subscribed in that namespace delivers it,
and nothing it names lies in a third namespace). The feed shows such an event to who holds
``audit.read`` there (registry/_queries.py ``visible_events``).

Announcing again revises the plan (the first announcement's date is kept: it is the
``Deprecation`` header's) and notifies again; withdrawing deletes it, appends
``version.undeprecated`` and notifies the consumers that the plan is off.

Teams that pulled the version are told too: who pulled it (an artifact download, or a
client's ``pulled`` signal) is recorded per person (``registry/_pulls.py``), and each
namespace that grants one of them a role gets a notice naming its own people who pulled.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from modelatlas.errors import FieldError, InvalidInput, NotFound
from modelatlas.events import Action
from modelatlas.governance.grants import readable_clause
from modelatlas.governance.policy import Target
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._guards import check_read, hidden_as_missing, tags_of
from modelatlas.registry._pulls import pullers_by_namespace
from modelatlas.registry._rows import check_limit, format_ref
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.deprecation_types import (
    NOTICE_NAMES,
    DeprecatedDeployment,
    Deprecation,
    DeprecationPlan,
    parse_time,
)
from modelatlas.registry.lineage_types import KindCount
from modelatlas.registry.types import Page
from modelatlas.store.tables import assets, deprecations, relations

# The edges whose source consumes the version (their target).
CONSUMING = ("serves", "derived_from", "used")
# One transaction notifies them all; past this, the notices would not fit one transaction.
MAX_CONSUMERS = 50_000
# Deployments in these states serve nothing.
NOT_SERVING = ("retired", "failed")
Status = Literal["announced", "revised", "withdrawn"]

_version = assets.alias("dep_version")
_replacement = assets.alias("dep_replacement")
_deployment = assets.alias("dep_deployment")


@dataclass(frozen=True, slots=True)
class Consumer:
    id: int
    kind: str
    namespace: str
    ref: str


def _version_ref(ref: str | Ref, path: str = "/ref") -> Ref:
    parsed = Ref.coerce(ref, path=path)
    if parsed.kind != "model_version":
        raise InvalidInput.at(path, f"only a model version can be deprecated or named as a "
                                    f"replacement, not a {parsed.kind}")
    return parsed


def _plan(body: DeprecationPlan | dict[str, Any]) -> DeprecationPlan:
    if isinstance(body, DeprecationPlan):
        plan = body
    else:
        try:
            plan = DeprecationPlan.model_validate(body)
        except ValidationError as exc:
            raise InvalidInput.from_validation(
                exc, lead="the deprecation plan is not valid: ") from None
    if parse_time(plan.sunset) <= datetime.now(UTC):
        raise InvalidInput.at("/sunset", "the sunset must be in the future")
    return plan


def _ref_of(row: Any, prefix: str) -> str | None:
    kind = getattr(row, f"{prefix}kind")
    if kind is None:
        return None
    return format_ref(kind, getattr(row, f"{prefix}namespace"), getattr(row, f"{prefix}name"),
                      getattr(row, f"{prefix}version"))


def _ref_columns(table: Any, prefix: str) -> list[Any]:
    return [table.c[c].label(f"{prefix}{c}") for c in ("kind", "namespace", "name", "version")]


def _load(conn: Connection, version_id: int) -> Deprecation | None:
    row = conn.execute(
        sa.select(deprecations, *_ref_columns(_version, "v_"),
                  *_ref_columns(_replacement, "r_"))
        .join(_version, _version.c.id == deprecations.c.asset_id)
        .outerjoin(_replacement, _replacement.c.id == deprecations.c.replacement_id)
        .where(deprecations.c.asset_id == version_id)
    ).first()
    if row is None:
        return None
    counts = dict(row.consumers)
    namespaces = int(counts.pop("namespaces", 0))
    return Deprecation(
        ref=_ref_of(row, "v_") or "", sunset=row.sunset_at, reason=row.reason,
        replacement=_ref_of(row, "r_"), announced_at=row.announced_at,
        announced_by=row.announced_by, changed_at=row.changed_at, changed_by=row.changed_by,
        consumers=[KindCount(kind=k, count=n) for k, n in sorted(counts.items())],
        notified_namespaces=namespaces)


def consumers_of(conn: Connection, version_id: int) -> list[Consumer]:
    """The version's direct consumers (one hop in, over :data:`CONSUMING` edges), each
    once, by namespace then id."""
    rows = conn.execute(
        sa.select(assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name,
                  assets.c.version).distinct()
        .join(relations, relations.c.source_id == assets.c.id)
        .where(relations.c.target_id == version_id, relations.c.relation.in_(CONSUMING))
        .order_by(assets.c.namespace, assets.c.id).limit(MAX_CONSUMERS + 1)
    ).all()
    if len(rows) > MAX_CONSUMERS:
        raise InvalidInput.at("/ref", f"more than {MAX_CONSUMERS} assets consume this "
                                      "version: too many to notify in one transaction")
    return [Consumer(r.id, r.kind, r.namespace,
                     format_ref(r.kind, r.namespace, r.name, r.version)) for r in rows]


def _notify(tx: WriteTx, plan: Deprecation, consumers: Sequence[Consumer],
            pullers: dict[str, list[str]], status: Status) -> None:
    """One ``deprecation.notice`` per namespace that consumes the version or whose people
    pulled it, naming only its own consumers and people."""
    by_namespace: dict[str, list[Consumer]] = defaultdict(list)
    for consumer in consumers:
        by_namespace[consumer.namespace].append(consumer)
    for namespace in sorted(by_namespace.keys() | pullers.keys()):
        found = by_namespace.get(namespace, [])
        pulled = pullers.get(namespace, [])
        tx.emit(Action.DEPRECATION_NOTICE, f"namespace:{namespace}", {
            "status": status, "deprecated": plan.ref, "sunset": plan.sunset,
            "reason": plan.reason, "replacement": plan.replacement, "namespace": namespace,
            "consumers": [c.ref for c in found[:NOTICE_NAMES]], "count": len(found),
            "by_kind": dict(sorted(Counter(c.kind for c in found).items())),
            "pulled_by": pulled[:NOTICE_NAMES], "pulled_count": len(pulled),
        }, None)


def _counts(consumers: Sequence[Consumer], pullers: dict[str, list[str]]) -> dict[str, int]:
    counts = dict(sorted(Counter(c.kind for c in consumers).items()))
    people = {person for found in pullers.values() for person in found}
    if people:
        counts["people_who_pulled"] = len(people)
    counts["namespaces"] = len({c.namespace for c in consumers} | pullers.keys())
    return counts


def _store(tx: WriteTx, version_id: int, plan: DeprecationPlan, replacement_id: int | None,
           counts: dict[str, int]) -> bool:
    """Write the plan; True when it revised an existing one."""
    values = {"changed_at": tx.now, "changed_by": tx.actor, "sunset_at": plan.sunset,
              "reason": plan.reason, "replacement_id": replacement_id, "consumers": counts}
    where = deprecations.c.asset_id == version_id
    if tx.conn.execute(deprecations.update().where(where).values(values)).rowcount:
        return True
    tx.conn.execute(deprecations.insert().values(
        asset_id=version_id, announced_at=tx.now, announced_by=tx.actor, **values))
    return False


def _event_payload(plan: Deprecation, status: Status) -> dict[str, Any]:
    return {"ref": plan.ref, "status": status, "sunset": plan.sunset, "reason": plan.reason,
            "replacement": plan.replacement, "announced_at": plan.announced_at,
            "consumers": {c.kind: c.count for c in plan.consumers},
            "notified_namespaces": plan.notified_namespaces}


def _encode(sunset: str, version_id: int, deployment_id: int) -> str:
    raw = json.dumps([sunset, version_id, deployment_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[str, int, int] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        sunset, version_id, deployment_id = value
        if not (isinstance(sunset, str) and isinstance(version_id, int)
                and isinstance(deployment_id, int)):
            raise ValueError(value)
        return sunset, version_id, deployment_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this registry issued; start again without it",
                           errors=[FieldError("/cursor", "unknown cursor")]) from None


def _report_query(after: tuple[str, int, int] | None,
                  visible: list[ColumnElement[bool]], limit: int) -> Any:
    stmt = (
        sa.select(deprecations.c.sunset_at, deprecations.c.asset_id, deprecations.c.reason,
                  _deployment.c.id.label("d_id"), _deployment.c.state.label("d_state"),
                  *_ref_columns(_deployment, "d_"), *_ref_columns(_version, "v_"),
                  *_ref_columns(_replacement, "r_"))
        .select_from(deprecations)
        .join(_version, _version.c.id == deprecations.c.asset_id)
        .join(relations, sa.and_(relations.c.target_id == deprecations.c.asset_id,
                                 relations.c.relation == "serves"))
        .join(_deployment, _deployment.c.id == relations.c.source_id)
        .outerjoin(_replacement, _replacement.c.id == deprecations.c.replacement_id)
        .where(_deployment.c.state.not_in(NOT_SERVING), *visible)
        .order_by(deprecations.c.sunset_at, deprecations.c.asset_id, _deployment.c.id)
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(sa.tuple_(deprecations.c.sunset_at, deprecations.c.asset_id,
                                    _deployment.c.id) > sa.tuple_(*after))
    return stmt


def _served(row: Any, now: datetime) -> DeprecatedDeployment:
    left = parse_time(row.sunset_at) - now
    return DeprecatedDeployment(
        deployment=_ref_of(row, "d_") or "", namespace=row.d_namespace, state=row.d_state,
        version=_ref_of(row, "v_") or "", sunset=row.sunset_at,
        days_left=left.days, past_sunset=left.total_seconds() <= 0, reason=row.reason,
        replacement=_ref_of(row, "r_"))


class DeprecationService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def _deprecatable(self, tx: WriteTx, principal: Principal | None, ref: Ref) -> int:
        """The version's id, locked, once the caller may read it (else 404) and holds
        ``version.deprecate`` in its namespace (else 403)."""
        version_id = tx.require_id(ref, "/ref")
        tx.conn.execute(sa.select(assets.c.id).where(assets.c.id == version_id)
                        .with_for_update()).one()
        tags = tags_of(tx.conn, version_id)
        check_read(self.check_access, tx.conn, principal, ref, tags)
        self.check_access(tx.conn, principal, "version.deprecate", ref.namespace,
                          Target(ref=str(ref), kind=ref.kind, tags=tags))
        return version_id

    def _replacement_id(self, tx: WriteTx, principal: Principal | None,
                        replacement: str | None, version_id: int) -> int | None:
        if replacement is None:
            return None
        parsed = _version_ref(replacement, "/replacement")
        found = tx.require_id(parsed, "/replacement")
        check_read(self.check_access, tx.conn, principal, parsed, tags_of(tx.conn, found),
                   "/replacement")
        if found == version_id:
            raise InvalidInput.at("/replacement", "a version cannot replace itself")
        if tx.conn.execute(sa.select(deprecations.c.asset_id)
                           .where(deprecations.c.asset_id == found)).first() is not None:
            raise InvalidInput.at("/replacement", "the replacement is deprecated itself")
        return found

    def deprecate(self, ref: str | Ref, plan: DeprecationPlan | dict[str, Any], *,
                  actor: str | None = None,
                  principal: Principal | None = None) -> Deprecation:
        """Announce (or revise) a model version's deprecation plan and notify its consumers,
        in one transaction (see the module docstring). Needs ``version.deprecate``
        (maintainer) in the version's namespace; the replacement must be a readable model
        version that is not deprecated itself."""
        parsed = _version_ref(ref)
        spec = _plan(plan)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            version_id = self._deprecatable(tx, principal, parsed)
            replacement_id = self._replacement_id(tx, principal, spec.replacement, version_id)
            consumers = consumers_of(tx.conn, version_id)
            pullers = pullers_by_namespace(tx.conn, version_id)
            revised = _store(tx, version_id, spec, replacement_id,
                             _counts(consumers, pullers))
            stored = _load(tx.conn, version_id)
            assert stored is not None  # written just above, in this transaction
            status: Status = "revised" if revised else "announced"
            tx.emit(Action.VERSION_DEPRECATED, str(parsed), _event_payload(stored, status),
                    version_id)
            _notify(tx, stored, consumers, pullers, status)
            return stored

    def withdraw_deprecation(self, ref: str | Ref, *, actor: str | None = None,
                             principal: Principal | None = None) -> Deprecation:
        """Withdraw a version's deprecation plan (404 when it has none) and tell the
        consumers; answers the plan that was withdrawn. Needs ``version.deprecate``."""
        parsed = _version_ref(ref)
        with (hidden_as_missing(), self.denials_recorded(),
              self._write(self.acting(principal, actor)) as tx):
            version_id = self._deprecatable(tx, principal, parsed)
            stored = _load(tx.conn, version_id)
            if stored is None:
                raise NotFound(f"{parsed} is not deprecated",
                               errors=[FieldError("/ref", "not deprecated")])
            tx.conn.execute(deprecations.delete()
                            .where(deprecations.c.asset_id == version_id))
            tx.emit(Action.DEPRECATION_WITHDRAWN, str(parsed),
                    _event_payload(stored, "withdrawn"), version_id)
            _notify(tx, stored, consumers_of(tx.conn, version_id),
                    pullers_by_namespace(tx.conn, version_id), "withdrawn")
            return stored

    def deprecation(self, ref: str | Ref, *,
                    principal: Principal | None = None) -> Deprecation:
        """A version's deprecation plan: 404 when it has none, or the caller may not read
        the version."""
        parsed = _version_ref(ref)
        with self.db.read() as conn:
            asset = q.get_asset(conn, parsed)
        self.authorize_read(principal, asset.ref, asset.namespace, asset.kind, asset.tags)
        found = self.deprecation_notice(parsed)
        if found is None:
            raise NotFound(f"{parsed} is not deprecated",
                           errors=[FieldError("/ref", "not deprecated")])
        return found

    def deprecation_notice(self, ref: str | Ref) -> Deprecation | None:
        """The plan of a version the caller has already read (no access check: the API's
        ``Deprecation``/``Sunset`` headers and the SDK's warning come from it); ``None``
        for anything not deprecated, and no query for anything but a model version."""
        parsed = Ref.coerce(ref, path="/ref")
        if parsed.kind != "model_version":
            return None
        with self.db.read() as conn:
            version_id = q.find_id(conn, parsed)
            return None if version_id is None else _load(conn, version_id)

    def deprecated_deployments(self, *, cursor: str | None = None, limit: int = 100,
                               principal: Principal | None = None,
                               now: datetime | None = None) -> Page[DeprecatedDeployment]:
        """Deployments (not retired or failed) still serving deprecated model versions,
        earliest sunset first (so those past it lead), where the caller may read both the
        deployment and the version. ``now`` dates ``days_left`` (tests)."""
        check_limit(limit, self.settings.page_limit_max)
        after = _decode(cursor)
        visible: list[ColumnElement[bool]] = []
        if principal is not None and not principal.is_local:
            readable = self.readable(principal)
            visible = [readable_clause(readable, _deployment),  # type: ignore[arg-type]
                       readable_clause(readable, _version)]  # type: ignore[arg-type]
        with self.db.read() as conn:
            rows = conn.execute(_report_query(after, visible, limit)).all()
        moment = now or datetime.now(UTC)
        items = [_served(row, moment) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = None if last is None else _encode(last.sunset_at, last.asset_id,
                                                        last.d_id)
        return Page[DeprecatedDeployment](items=items, next_cursor=next_cursor)
