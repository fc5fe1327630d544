"""How requirements are stored and how asset requirements meet the graph: one
``requirements`` row per requirement, the newest satisfying version of each required asset,
and the refusal of circular ``requires`` chains. Used by registration and by
:class:`~modelatlas.registry._deps.DepsService`, always inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from sqlalchemy.engine import Connection

from modelatlas.deps.model import AssetRequirement, Origin, PackageRequirement, Requirements
from modelatlas.deps.schemas import CompatibleWith, compatible_with
from modelatlas.errors import Conflict, FieldError, InvalidInput
from modelatlas.events import Action
from modelatlas.refs import Ref
from modelatlas.registry._rows import format_ref
from modelatlas.registry._tx import WriteTx
from modelatlas.registry.deps_types import ModelRequirements
from modelatlas.registry.types import Relation
from modelatlas.store.tables import assets, relations, requirements

Node = tuple[int, Ref]
# Bounds of the walk that looks for circular requirements: far beyond any real chain of
# feature pipelines, and small enough that a pathological graph answers quickly.
MAX_WALK_NODES = 10_000
MAX_WALK_DEPTH = 100
REQUIREMENT_PROPERTY = "requirement"  # marks the requires edges that requirements created


# --- rows <-> Requirements ----------------------------------------------------------------


def requirement_rows(asset_id: int, req: Requirements) -> list[dict[str, Any]]:
    """One row per requirement, in a stable order (the order they are read back in)."""
    rows: list[dict[str, Any]] = []

    def add(kind: str, name: str, specifier: str, origin: Origin | None = None,
            package: PackageRequirement | None = None) -> None:
        where = origin or Origin("request")
        rows.append({
            "asset_id": asset_id, "position": len(rows), "type": kind, "name": name,
            "specifier": specifier,
            "extras": list(package.extras) if package else [],
            "marker": package.marker if package else None,
            "url": package.url if package else None,
            "hashes": list(package.hashes) if package else [],
            "origin_file": where.file, "origin_line": where.line,
        })

    if req.python is not None:
        add("python", "", req.python, req.python_origin)
    for value, kind in ((req.accelerator, "accelerator"), (req.cuda, "cuda"),
                        (req.image, "image")):
        if value is not None:
            add(kind, "", value)
    for value, kind in ((req.input_schema, "input_schema"),
                        (req.output_schema, "output_schema")):
        if value is not None:
            # named by the schema without its version, so "every consumer of this schema"
            # is an index range on (type, name)
            schema = Ref.parse(value, path=f"/{kind}")
            add(kind, f"{schema.kind}:{schema.namespace}/{schema.name}", value)
    for package in req.packages:
        add("package", package.name, package.specifier, package.origin, package)
    for asset in req.assets:
        add("asset", asset.ref, asset.specifier, asset.origin)
    return rows


def requirements_from_rows(rows: Iterable[Any]) -> Requirements:
    fields: dict[str, Any] = {}
    packages: list[PackageRequirement] = []
    found_assets: list[AssetRequirement] = []
    for row in rows:
        origin = Origin(row.origin_file, row.origin_line)
        if row.type == "package":
            packages.append(PackageRequirement(
                name=row.name, specifier=row.specifier, extras=tuple(row.extras or ()),
                marker=row.marker, url=row.url, hashes=tuple(row.hashes or ()), origin=origin,
            ))
        elif row.type == "asset":
            found_assets.append(AssetRequirement(row.name, row.specifier, origin))
        elif row.type == "python":
            fields["python"], fields["python_origin"] = row.specifier, origin
        else:
            fields[row.type] = row.specifier
    return Requirements(packages=tuple(packages), assets=tuple(found_assets), **fields)


def load_requirements(conn: Connection, asset_id: int) -> Requirements:
    rows = conn.execute(
        sa.select(requirements).where(requirements.c.asset_id == asset_id)
        .order_by(requirements.c.position)
    ).all()
    return requirements_from_rows(rows)


# --- asset requirements against the graph -------------------------------------------------


def satisfying_version(conn: Connection, req: AssetRequirement) -> tuple[Node | None, str]:
    """The newest version of the required asset that satisfies the constraint, or None
    with the reason (no such asset; no version satisfies it, listing the versions)."""
    ref = Ref.parse(req.ref)
    rows = conn.execute(
        sa.select(assets.c.id, assets.c.version).where(
            assets.c.kind == ref.kind, assets.c.namespace == ref.namespace,
            assets.c.name == ref.name,
        )
    ).all()
    if not rows:
        return None, f"{ref} does not exist: register it first"
    compatible = compatible_with(req.specifier)
    if compatible is not None:
        return _compatible_version(conn, ref, rows, compatible)
    spec = SpecifierSet(req.specifier)
    best: tuple[Version, int, str] | None = None
    for row in rows:
        if not row.version:
            if not req.specifier:
                return (row.id, ref), ""  # an unversioned asset satisfies "any version"
            continue
        try:
            version = Version(row.version)
        except InvalidVersion:
            continue
        if spec.contains(version, prereleases=True) and (best is None or version > best[0]):
            best = (version, row.id, row.version)
    if best is None:
        known = sorted((r.version for r in rows), key=_version_key)
        listed = ", ".join(v or "(unversioned)" for v in known[:20])
        return None, f"no version of {ref} satisfies {req.specifier} (versions: {listed})"
    return (best[1], ref.with_version(best[2])), ""


def _compatible_version(conn: Connection, ref: Ref, rows: Sequence[Any],
                        constraint: CompatibleWith) -> tuple[Node | None, str]:
    """The newest version of schema ``ref`` compatible with the constraint's version."""
    metas = dict(conn.execute(sa.select(assets.c.id, assets.c.meta).where(
        assets.c.id.in_([r.id for r in rows]))).all())
    base = next((r for r in rows if r.version == constraint.version), None)
    if base is None:
        return None, f"{ref}@{constraint.version} does not exist: register it first"
    best: tuple[Version, int, str] | None = None
    for row in rows:
        version = _registry_version(row.version)
        if version is None or version < Version(constraint.version):
            continue
        if constraint.admits(metas[base.id], metas[row.id]) and (
                best is None or version > best[0]):
            best = (version, row.id, row.version)
    if best is None:  # pragma: no cover - the base version is compatible with itself
        return None, f"no version of {ref} is {constraint}"
    return (best[1], ref.with_version(best[2])), ""


def _registry_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def resolve_assets(conn: Connection, req: Requirements, path: str) -> list[tuple[Node, str]]:
    """Each asset requirement's newest satisfying version (and each schema named), with
    the requirement text; raises :class:`InvalidInput` naming the field for one that is
    missing, unsatisfiable or circular. Nothing is written."""
    found: list[tuple[Node, str]] = []
    for i, asset in enumerate(req.assets):
        where = f"{path}/assets/{i}"
        node, reason = satisfying_version(conn, asset)
        if node is None:
            raise InvalidInput.at(where, reason)
        cycle = find_cycle(conn, node[0])
        if cycle:
            raise InvalidInput.at(
                where, f"circular registry requirements: {' -> '.join(cycle)}"
            )
        found.append((node, f"{asset.ref}{asset.specifier}"))
    for field in ("input_schema", "output_schema"):
        text = getattr(req, field)
        if text is not None:
            ref = Ref.parse(text)
            asset_id = conn.execute(
                sa.select(assets.c.id).where(
                    assets.c.kind == ref.kind, assets.c.namespace == ref.namespace,
                    assets.c.name == ref.name, assets.c.version == (ref.version or ""),
                )
            ).scalar()
            if asset_id is None:
                raise InvalidInput.at(f"{path}/{field}", f"{ref} does not exist: register it "
                                                         "first")
            found.append(((int(asset_id), ref), text))
    return found


def find_cycle(conn: Connection, start: int) -> list[str]:
    """A circular chain of ``requires`` edges reachable from ``start`` (its refs, the first
    repeated at the end), or ``[]``. Walks one level per query, within bounds."""
    edges: dict[int, list[int]] = {}
    frontier, depth = [start], 0
    while frontier and depth < MAX_WALK_DEPTH and len(edges) < MAX_WALK_NODES:
        rows = conn.execute(
            sa.select(relations.c.source_id, relations.c.target_id).where(
                relations.c.relation == "requires", relations.c.source_id.in_(frontier)
            )
        ).all()
        for source in frontier:
            edges.setdefault(source, [])
        for row in rows:
            edges[row.source_id].append(row.target_id)
        frontier = sorted({r.target_id for r in rows if r.target_id not in edges})
        depth += 1
    cycle = _cycle_in(edges, start)
    return _refs(conn, cycle) if cycle else []


def _cycle_in(edges: dict[int, list[int]], start: int) -> list[int]:
    """Iterative depth-first search; the path of the first back edge found."""
    on_path: dict[int, int] = {}
    path: list[int] = []
    done: set[int] = set()
    stack: list[tuple[int, Iterable[int]]] = [(start, iter(edges.get(start, ())))]
    on_path[start] = 0
    path.append(start)
    while stack:
        node, children = stack[-1]
        child = next(iter(children), None)
        if child is None:
            stack.pop()
            path.pop()
            on_path.pop(node, None)
            done.add(node)
            continue
        if child in on_path:
            return [*path[on_path[child]:], child]
        if child not in done:
            on_path[child] = len(path)
            path.append(child)
            stack.append((child, iter(edges.get(child, ()))))
    return []


def _refs(conn: Connection, ids: Sequence[int]) -> list[str]:
    rows = conn.execute(
        sa.select(assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name,
                  assets.c.version).where(assets.c.id.in_(set(ids)))
    ).all()
    by_id = {r.id: format_ref(r.kind, r.namespace, r.name, r.version) for r in rows}
    return [by_id[i] for i in ids]


# --- writing --------------------------------------------------------------------------------


def write_requirements(
    tx: WriteTx, version: Node, req: Requirements, *, path: str, replace: bool
) -> list[tuple[Node, str]]:
    """Validate the asset requirements, store every requirement (replacing the old rows
    when ``replace``) and append ``requirements.set``. Returns the assets to link."""
    targets = resolve_assets(tx.conn, req, path)
    if replace:
        tx.conn.execute(requirements.delete().where(requirements.c.asset_id == version[0]))
    rows = requirement_rows(version[0], req)
    if rows:
        tx.conn.execute(requirements.insert(), rows)
    payload = ModelRequirements.of(str(version[1]), req).model_dump(mode="json")
    tx.emit(Action.REQUIREMENTS_SET, str(version[1]), payload, version[0])
    return targets


def relink(
    tx: WriteTx, version: Node, targets: Sequence[tuple[Node, str]], *,
    linked: Iterable[int] = (), frozen: bool = False,
) -> list[Relation]:
    """Make the version's ``requires`` edges follow its requirements: add an edge to each
    target (marked with the requirement) and remove the edges earlier requirements made
    that no longer apply. Edges from registration's ``features``/``requires`` stay;
    ``linked`` are targets this transaction links already (not yet written). ``frozen``:
    the version's lineage may not change here (a production version's changes need an
    approval), so a change of edges is refused, not made."""
    existing = tx.conn.execute(
        sa.select(relations.c.id, relations.c.target_id, relations.c.properties,
                  assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)
        .join(assets, assets.c.id == relations.c.target_id)
        .where(relations.c.source_id == version[0], relations.c.relation == "requires")
    ).all()
    wanted = {node[0] for node, _ in targets}
    stale = [row for row in existing
             if REQUIREMENT_PROPERTY in (row.properties or {}) and row.target_id not in wanted]
    done = {row.target_id for row in existing} | set(linked)
    new: list[tuple[Node, str]] = []
    for node, text in targets:
        if node[0] not in done:
            done.add(node[0])
            new.append((node, text))
    if frozen and (stale or new):
        raise Conflict(
            f"{version[1]} is in production: a change of its asset requirements changes its "
            "lineage, which needs an approval (link or unlink the requires edges, which "
            "makes a lineage-change request, or register a new version)",
            errors=[FieldError("/requirements", "changes the requires edges of a "
                                                "production version")])
    for row in stale:
        tx.conn.execute(relations.delete().where(relations.c.id == row.id))
        target = format_ref(row.kind, row.namespace, row.name, row.version)
        payload = {"source": str(version[1]), "relation": "requires", "target": target}
        tx.emit(Action.RELATION_REMOVED, str(version[1]), payload, version[0])
    return [tx.link(version, "requires", node, {REQUIREMENT_PROPERTY: text})
            for node, text in new]


def not_a_model_version(ref: Ref, path: str) -> InvalidInput:
    return InvalidInput(
        f"{ref} is a {ref.kind}; requirements belong to a model_version",
        errors=[FieldError(path, "a model_version ref, e.g. model_version:fraud/churn@7")],
    )
