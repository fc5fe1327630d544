"""What a change would break: a package upgrade in an environment, a new version of a
feature or dataset, a schema change. Read-only; the service runs these in one read
transaction, and revalidation (:mod:`._revalidation`) runs them inside a write.

Package upgrades read the ``requirements`` index by ``(type, name)``: each *distinct*
specifier (and marker) is evaluated once in Python with ``packaging``, then the rows whose
specifier rejects the new version are fetched by specifier, restricted in SQL to the
versions running in the environment. Graph walks go one bounded level per query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version
from sqlalchemy.engine import Connection

from modelatlas.deps.check import marker_applies, parse_specifier
from modelatlas.deps.model import Origin
from modelatlas.deps.pins import markers_of
from modelatlas.deps.schemas import breaks_consumer, check_history, compatible_with, fields_of
from modelatlas.errors import FieldError, InvalidInput, ModelAtlasError, NotFound
from modelatlas.refs import Ref
from modelatlas.registry._impact_graph import (
    NODE_COLUMNS,
    Collector,
    Node,
    consumers,
    derived,
    node_of,
    running_in,
    serving,
    sources_of,
    versions_of,
)
from modelatlas.registry.impact_types import ImpactChange, ImpactReport
from modelatlas.store.tables import assets, requirements

Notes = dict[int, str]


# --- loading ----------------------------------------------------------------------------


def load_node(conn: Connection, text: str, path: str, kinds: tuple[str, ...]) -> tuple[Node, Any]:
    """The asset ``text`` names, with its metadata; 422 for the wrong kind, 404 if absent."""
    ref = Ref.parse(text, path=path)
    if ref.kind not in kinds:
        raise InvalidInput.at(path, f"expected a ref of kind {' or '.join(kinds)}, got {ref.kind}")
    row = conn.execute(
        sa.select(*NODE_COLUMNS, assets.c.meta).where(
            assets.c.kind == ref.kind, assets.c.namespace == ref.namespace,
            assets.c.name == ref.name, assets.c.version == (ref.version or ""),
        )
    ).first()
    if row is None:
        raise NotFound(f"{ref} does not exist", errors=[FieldError(path, "no such asset")])
    return node_of(row), row.meta


def pins(packages: Sequence[str]) -> dict[str, str]:
    """An environment's ``packages`` (PEP 508 lines) as canonical name -> pinned version
    (``==`` pins) or the specifier text (anything else); unparseable lines are skipped."""
    found: dict[str, str] = {}
    for line in packages:
        parsed = _pin_or_specifier(line)
        if parsed is not None:
            found[parsed[0]] = parsed[1]
    return found


@lru_cache(maxsize=65_536)
def _pin_or_specifier(line: str) -> tuple[str, str] | None:
    """Cached: every impact question reads the environment's few hundred lines again."""
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None
    pinned = [s.version for s in req.specifier if s.operator in ("==", "===")]
    return canonicalize_name(req.name), pinned[0] if pinned else str(req.specifier)


def _version(text: str, path: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise InvalidInput.at(path, f"{text!r} is not a PEP 440 version") from None


def _package_name(text: str) -> str:
    try:
        return canonicalize_name(text, validate=True)
    except InvalidName:
        raise InvalidInput.at("/package", f"{text!r} is not a valid package name") from None


def _origin(file: str, line: int | None) -> str:
    return str(Origin(file, line))


# --- package upgrades -------------------------------------------------------------------


def package_impact(conn: Connection, change: ImpactChange, *,
                   collector: Collector | None = None) -> ImpactReport:
    env, meta = load_node(conn, change.environment or "", "/environment", ("environment",))
    if not change.package:
        raise InvalidInput.at("/package", "required with environment")
    if not change.to:
        raise InvalidInput.at("/to", "required with environment: the new version")
    name, to = _package_name(change.package), _version(change.to, "/to")
    current = pins(meta.get("packages") or []).get(name)
    markers = markers_of(meta)
    scope = env.id if change.scope == "environment" else None
    collector = collector if collector is not None else Collector()
    found = package_violations(conn, name, to, markers, env_id=scope, limit=change.limit + 1)
    for node, spec, origin in found:
        collector.add(node, f"{name} {change.to} does not satisfy {spec} ({node.owner}, {origin})")
    add_deployments(conn, collector, env_id=env.id if scope is not None else None)
    summary = f"{name} {current or '(not installed)'} -> {change.to} in {env.ref}"
    return report("package", summary, collector, change.limit, truncated=len(found) > change.limit)


def package_violations(
    conn: Connection,
    name: str,
    to: Version,
    markers: dict[str, str],
    *,
    env_id: int | None,
    limit: int,
    among: Sequence[int] | None = None,
) -> list[tuple[Node, str, str]]:
    """Model versions whose requirement on package ``name`` rejects version ``to`` (markers
    evaluated against ``markers``), running in environment ``env_id`` when given:
    ``(version, specifier, origin)``, in id order, at most ``limit``."""
    failing = [spec for spec in distinct_specifiers(conn, "package", name)
               if spec and _rejects(spec, to)]
    if not failing:
        return []
    stmt = (
        sa.select(requirements.c.specifier, requirements.c.marker, requirements.c.origin_file,
                  requirements.c.origin_line, *NODE_COLUMNS)
        .join(assets, assets.c.id == requirements.c.asset_id)
        .where(requirements.c.type == "package", requirements.c.name == name,
               requirements.c.specifier.in_(failing), assets.c.kind == "model_version")
        .order_by(requirements.c.asset_id)
        .limit(limit)
    )
    if env_id is not None:
        stmt = stmt.where(requirements.c.asset_id.in_(running_in(env_id)))
    if among is not None:
        stmt = stmt.where(requirements.c.asset_id.in_(among))
    applies: dict[str | None, bool] = {}  # each distinct marker is evaluated once
    found = []
    for r in conn.execute(stmt):
        if r.marker not in applies:
            applies[r.marker] = _applies(r.marker, markers)
        if applies[r.marker]:
            found.append((node_of(r), r.specifier, _origin(r.origin_file, r.origin_line)))
    return found


def distinct_specifiers(conn: Connection, type_: str, name: str) -> list[str]:
    """The distinct specifiers of one package, by a loose index scan: one seek on the
    ``(type, name, specifier, ...)`` index per distinct value, instead of reading every
    row (a package required by 100k versions has a few dozen distinct specifiers)."""
    found: list[str] = []
    step = sa.select(sa.func.min(requirements.c.specifier)).where(
        requirements.c.type == type_, requirements.c.name == name,
        requirements.c.specifier > sa.bindparam("after"),
    )
    first = conn.execute(
        sa.select(sa.func.min(requirements.c.specifier)).where(
            requirements.c.type == type_, requirements.c.name == name)
    ).scalar()
    value = first
    while value is not None and len(found) < 10_000:
        found.append(value)
        value = conn.execute(step, {"after": value}).scalar()
    return found


def _rejects(spec: str, version: Version) -> bool:
    try:
        return not parse_specifier(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return False  # stored specifiers were validated at registration; never fail here


def _applies(marker: str | None, markers: dict[str, str]) -> bool:
    try:
        return marker_applies(marker, markers, where="/marker")
    except ModelAtlasError:
        return True  # a marker that cannot be evaluated: report rather than hide


def add_deployments(conn: Connection, collector: Collector, *, env_id: int | None) -> None:
    """Deployments serving an affected version. With ``env_id``, a deployment linked only
    to other environments does not run the changed one, so it is left out."""
    versions = collector.model_versions
    for found in serving(conn, list(versions)):
        if env_id is not None and found.environments and env_id not in found.environments:
            continue
        served = versions[found.version_id]
        owner = served.ref.split(":", 1)[1]
        collector.add(found.deployment, f"serves {owner}", via=served.ref, depth=served.depth + 1)


def report(kind: Any, summary: str, collector: Collector, limit: int, *, truncated: bool = False,
           **extra: Any) -> ImpactReport:
    def cut(items: Mapping[int, Any]) -> list[Any]:
        return [items[k] for k in sorted(items)][:limit]

    hidden = collector.drop_unreadable()  # before the cut: the lists stay full
    over = any(len(b) > limit for b in (collector.model_versions, collector.deployments,
                                       collector.data))
    return ImpactReport(
        kind=kind, summary=summary, model_versions=cut(collector.model_versions),
        deployments=cut(collector.deployments), data=cut(collector.data),
        truncated=truncated or over, hidden=hidden, **extra,
    )


# --- walking the graph ------------------------------------------------------------------


def follow(conn: Connection, collector: Collector, start: Sequence[Node], notes: Notes,
           *, depth: int) -> None:
    """From data assets ``start``, ``depth`` levels: their consumers (``requires``, or
    trained by a run that ``used`` them), and features or datasets derived from them or
    requiring them, whose consumers come next. ``notes[id]`` ends each reason about that
    asset and passes to what derives from it."""
    frontier = {n.id: n for n in start}
    seen = set(frontier)
    for level in range(1, depth + 1):
        if not frontier:
            return
        upcoming: dict[int, Node] = {}
        for use in consumers(conn, list(frontier)):
            via = frontier[use.via_id]
            collector.add(use.consumer, f"{use.how} {via.ref}{notes[via.id]}", via=via.ref,
                          depth=level)
            if use.consumer.kind in ("feature", "dataset") and use.consumer.id not in seen:
                upcoming[use.consumer.id] = use.consumer
                notes[use.consumer.id] = notes[via.id]
        for child, parent_id in derived(conn, list(frontier)):
            parent = frontier[parent_id]
            collector.add(child, f"derived from {parent.ref}{notes[parent.id]}", via=parent.ref,
                          depth=level)
            if child.id not in seen:
                upcoming[child.id] = child
                notes[child.id] = notes[parent.id]
        seen |= set(upcoming)
        frontier = upcoming


# --- new asset versions -----------------------------------------------------------------


def asset_impact(conn: Connection, change: ImpactChange, *, pick_up_only: bool = False,
                 depth: int | None = None, collector: Collector | None = None) -> ImpactReport:
    """A registered version of a feature or dataset (schemas go to :func:`schema_impact`).
    ``pick_up_only`` leaves out versions whose constraint excludes the new one (they do
    not move to it), as revalidation wants; it passes its own ``collector`` to keep ids."""
    text = change.asset or ""
    ref = Ref.parse(text, path="/asset")
    if ref.kind == "schema":
        return schema_impact(conn, change, depth=depth, collector=collector)
    if not ref.version:
        raise InvalidInput.at("/asset", "name a version: kind:namespace/name@version")
    node, _ = load_node(conn, text, "/asset", ("feature", "dataset"))
    collector = collector if collector is not None else Collector()
    declared_asset_users(conn, collector, node, ref, pick_up_only=pick_up_only)
    older = _before(versions_of(conn, ref.kind, ref.namespace, ref.name), node)
    notes = {n.id: f"; {node.ref} is registered: needs revalidation" for n in older}
    follow(conn, collector, older, notes, depth=depth or change.depth)
    add_deployments(conn, collector, env_id=None)
    return report("asset", f"{node.ref} registered", collector, change.limit)


def _before(series: list[tuple[Node, Any]], node: Node) -> list[Node]:
    ids = [n.id for n, _ in series]
    cut = ids.index(node.id) if node.id in ids else len(ids)
    return [n for n, _ in series[:cut]]


def declared_asset_users(conn: Connection, collector: Collector, node: Node, ref: Ref, *,
                         pick_up_only: bool) -> None:
    """Model versions declaring a requirement on the series (``feature:ns/name>=2,<3``):
    inside the constraint they pick the new version up, outside they cannot use it."""
    base = f"{ref.kind}:{ref.namespace}/{ref.name}"
    version = _registry_version(ref.version or "")
    rows = conn.execute(
        sa.select(requirements.c.specifier, requirements.c.origin_file,
                  requirements.c.origin_line, *NODE_COLUMNS)
        .join(assets, assets.c.id == requirements.c.asset_id)
        .where(requirements.c.type == "asset", requirements.c.name == base)
        .order_by(requirements.c.asset_id)
    )
    admits: dict[str, bool] = {}
    for row in rows:
        spec = row.specifier
        if spec not in admits:
            admits[spec] = _admits(conn, node, ref, spec, version)
        user, origin = node_of(row), _origin(row.origin_file, row.origin_line)
        where = f"constraint {spec or 'any'}; {user.owner}, {origin}"
        if admits[spec]:
            collector.add(user, f"will pick up v{ref.version}: needs revalidation ({where})",
                          via=node.ref)
        elif not pick_up_only:
            collector.add(user, f"cannot use v{ref.version} ({where})", via=node.ref)


def _admits(conn: Connection, node: Node, ref: Ref, spec: str, version: Version | None) -> bool:
    """Whether an asset requirement's constraint admits the new version ``ref``: a PEP 440
    specifier on its number, or ``compatible-with N`` on a schema's fields."""
    compatible = compatible_with(spec)
    if compatible is None:
        return version is None or not spec or not _rejects(spec, version)
    base = conn.execute(sa.select(assets.c.meta).where(
        assets.c.kind == ref.kind, assets.c.namespace == ref.namespace,
        assets.c.name == ref.name, assets.c.version == compatible.version)).scalar()
    new = conn.execute(sa.select(assets.c.meta).where(assets.c.id == node.id)).scalar()
    return base is not None and new is not None and compatible.admits(base, new)


def _registry_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None  # a version that is not PEP 440 matches only an empty constraint


# --- schema changes ---------------------------------------------------------------------

Breaks = Callable[[Any], list[str]]


def _schema_sides(conn: Connection, change: ImpactChange) -> tuple[Ref, str, Any, list[Any]]:
    """(series ref, label of the new side, new fields, [(node, meta) of older versions])."""
    if change.asset:
        node, meta = load_node(conn, change.asset, "/asset", ("schema",))
        ref = Ref.parse(change.asset, path="/asset")
        series = versions_of(conn, "schema", ref.namespace, ref.name)
        older = set(n.id for n in _before(series, node))
        return ref, node.ref, meta, [(n, m) for n, m in series if n.id in older]
    ref = Ref.parse(change.schema_ref or "", path="/schema")
    if ref.kind != "schema" or ref.version:
        raise InvalidInput.at("/schema", "a schema ref without version: schema:namespace/name")
    if change.fields is None:
        raise InvalidInput.at("/fields", "required with schema: the proposed fields")
    fields_of(change.fields)  # 422 naming /fields/i/... before anything is read
    series = versions_of(conn, "schema", ref.namespace, ref.name)
    if not series:
        raise NotFound(f"{ref} has no registered version to compare with",
                       errors=[FieldError("/schema", "no such schema")])
    return ref, f"{ref} (proposed)", {"fields": change.fields}, series


def schema_impact(conn: Connection, change: ImpactChange, *, depth: int | None = None,
                  keep_compatible: bool = False,
                  collector: Collector | None = None) -> ImpactReport:
    """Compatibility of the new schema with the older versions under ``change.mode``, and
    the consumers whose fields it breaks (:func:`breaks_consumer`): model versions declaring
    it as input schema or requiring an older version, data conforming to an older version
    and, transitively, what trained on or requires that data. ``keep_compatible`` also lists
    consumers it does not break (revalidation marks them all)."""
    ref, new_label, new, older = _schema_sides(conn, change)
    labels = [n.ref for n, _ in older]
    found = check_history([m for _, m in older], new, change.mode, labels=labels,
                          renames=change.renames) if older else []
    breaks: dict[int, list[str]] = {}
    for node, meta in older:
        present = fields_of(meta)
        renames = {a: b for a, b in change.renames.items() if a in present}
        breaks[node.id] = [str(i) for i in breaks_consumer(meta, new, renames=renames)]
        if keep_compatible and not breaks[node.id]:
            breaks[node.id] = [f"{new_label} changes no field it reads"]
    collector = collector if collector is not None else Collector()
    by_version = {n.ref: n for n, _ in older}
    _declared_schema_users(conn, collector, ref, by_version, breaks, new_label)
    broken = [n for n, _ in older if breaks[n.id]]
    notes: Notes = {n.id: f": {'; '.join(breaks[n.id])}" for n in broken}
    start = list(broken)
    for data, schema_id in sources_of(conn, "conforms_to", [n.id for n in broken],
                                      ("dataset", "feature")):
        schema = next(n for n in broken if n.id == schema_id)
        collector.add(data, f"conforms to {schema.ref}{notes[schema_id]}", via=schema.ref)
        notes[data.id] = f" (conforms to {schema.ref}{notes[schema_id]})"
        start.append(data)
    follow(conn, collector, start, notes, depth=depth or change.depth)
    add_deployments(conn, collector, env_id=None)
    return report(
        "schema", f"{new_label} against {len(older)} earlier version(s)", collector,
        change.limit, mode=change.mode, compatible=not found,
        incompatibilities=[str(i) for i in found],
    )


def _declared_schema_users(conn: Connection, collector: Collector, ref: Ref,
                           by_version: dict[str, Node], breaks: dict[int, list[str]],
                           new_label: str) -> None:
    base = f"schema:{ref.namespace}/{ref.name}"
    rows = conn.execute(
        sa.select(requirements.c.specifier, requirements.c.origin_file,
                  requirements.c.origin_line, *NODE_COLUMNS)
        .join(assets, assets.c.id == requirements.c.asset_id)
        .where(requirements.c.type == "input_schema",
               # the table documents name = the ref without version; rows written with
               # name '' carry the ref in the specifier only
               sa.or_(requirements.c.name == base,
                      sa.and_(requirements.c.name == "",
                              requirements.c.specifier.startswith(f"{base}@", autoescape=True))))
        .order_by(requirements.c.asset_id)
    )
    for row in rows:
        built_for = by_version.get(row.specifier)
        if built_for is None or not breaks[built_for.id]:
            continue  # built for the new version itself, or unaffected
        user = node_of(row)
        where = f"{user.owner}, {_origin(row.origin_file, row.origin_line)}"
        collector.add(user, f"input schema {row.specifier} ({where}), moving to {new_label}: "
                      + "; ".join(breaks[built_for.id]), via=built_for.ref)
