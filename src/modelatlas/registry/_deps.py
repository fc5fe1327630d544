"""The service layer's dependency operations (requirements, check, resolve, why), mixed
into :class:`Registry`.

The logic is :mod:`modelatlas.deps`'s; this module loads what it needs from the store
(a model version's requirement rows, environment assets), calls it, and turns the answer
into the wire shapes of :mod:`modelatlas.registry.deps_types`. Writes run in one
transaction and append ``requirements.set``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Connection

from modelatlas.deps.check import Violation, check
from modelatlas.deps.index import PackageIndex
from modelatlas.deps.model import Environment, Requirements
from modelatlas.deps.pins import environment_from_meta
from modelatlas.deps.resolve import Demand, Resolution, resolve
from modelatlas.errors import InvalidInput, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.refs import Ref
from modelatlas.registry import _queries as q
from modelatlas.registry._deps_store import (
    load_requirements,
    not_a_model_version,
    relink,
    satisfying_version,
    write_requirements,
)
from modelatlas.registry._guards import is_local, require_readable
from modelatlas.registry._lineage_changes import production_ends
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.deps_types import (
    CheckResult,
    ConflictOut,
    DemandOut,
    EnvironmentIn,
    EnvironmentOut,
    ModelRequirements,
    RequirementsIn,
    ResolutionOut,
    ResolveRequest,
    ViolationOut,
    WhyRequest,
    WhyResult,
    origin_out,
)
from modelatlas.store.tables import assets, relations

M = TypeVar("M", bound=BaseModel)
MAX_CHAINS = 20


def owner_label(ref: Ref) -> str:
    """How explanations name a model version: ``fraud/churn@7``."""
    return f"{ref.namespace}/{ref.name}@{ref.version}"


def _version_ref(ref: str | Ref, path: str = "/ref") -> Ref:
    parsed = Ref.coerce(ref, path=path)
    if parsed.kind != "model_version":
        raise not_a_model_version(parsed, path)
    return parsed


class DepsService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`: methods here may use
    ``self.db``, ``self.settings`` and ``self._write(actor)`` as the other service
    methods do."""

    # requirements ----------------------------------------------------------------------
    def requirements(self, ref: str | Ref, *,
                     principal: Principal | None = None) -> ModelRequirements:
        """What a model version declares it needs (empty when nothing was declared)."""
        parsed = _version_ref(ref)
        require_readable(self, principal, parsed)
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            return ModelRequirements.of(str(parsed), load_requirements(conn, asset_id))

    def set_requirements(
        self,
        ref: str | Ref,
        requirements: RequirementsIn | Mapping[str, Any],
        *,
        actor: str | None = None,
        principal: Principal | None = None,
    ) -> ModelRequirements:
        """Replace a model version's requirements in one transaction: refused (422 naming
        the field) when an asset requirement is missing, unsatisfiable or circular. Its
        ``requires`` edges follow the asset requirements."""
        parsed = _version_ref(ref)
        body = _parse(RequirementsIn, requirements)
        domain = body.to_domain()
        require_readable(self, principal, parsed)
        # ``asset.update`` of the version, not ``version.register``: requirements say how
        # to run the version (they are corrected as environments move on); they are not
        # its artifact nor its core metadata, which stay immutable once registered.
        self.authorize(principal, "asset.update", parsed.namespace, ref=str(parsed),
                       kind=parsed.kind, fields=frozenset({"requirements"}))
        with self._write(self.acting(principal, actor)) as tx:
            node = (tx.require_id(parsed, "/ref"), parsed)
            # the local user's lineage changes apply directly (no second person to approve)
            frozen = not is_local(principal) and bool(
                production_ends(tx.conn, [node[0]], lock=True))
            targets = write_requirements(tx, node, domain, path="", replace=True)
            relink(tx, node, targets, frozen=frozen)
        return ModelRequirements.of(str(parsed), domain)

    # check -----------------------------------------------------------------------------
    def check(
        self,
        ref: str | Ref,
        target: str | Ref | None = None,
        *,
        environment: EnvironmentIn | None = None,
        principal: Principal | None = None,
    ) -> CheckResult:
        """Whether model version ``ref`` can run on ``target`` (an environment asset, or a
        deployment with a ``requires`` edge to one) or on an inline ``environment``."""
        parsed = _version_ref(ref)
        if (target is None) == (environment is None):
            raise InvalidInput.at("/target", "give a target ref or an inline environment "
                                             "(one of the two)")
        require_readable(self, principal, parsed)
        if target is not None and not is_local(principal):
            self._require_readable_target(principal, target)
        with self.db.read() as conn:
            asset_id = q.require_id(conn, parsed)
            declared = load_requirements(conn, asset_id)
            if environment is not None:
                env, target_text = environment.to_domain(), "inline:" + environment.name
            else:
                env, target_text = _target_environment(conn, target)
            owner = owner_label(parsed)
            violations = [_violation(v) for v in check(owner, declared, env)]
            violations += _asset_violations(conn, owner, declared)
        return CheckResult(
            ref=str(parsed), target=target_text, environment=EnvironmentOut.of(env),
            compatible=not violations, violations=violations,
        )

    def _require_readable_target(self, principal: Principal | None,
                                 target: str | Ref) -> None:
        """An unreadable target is answered as a missing one is (422 at /target)."""
        parsed = target if isinstance(target, Ref) else Ref.parse(str(target), path="/target")
        try:
            require_readable(self, principal, parsed, "/target")
        except NotFound:
            raise InvalidInput.at("/target", f"{parsed} does not exist") from None

    # resolve ---------------------------------------------------------------------------
    def resolve(self, request: ResolveRequest | Mapping[str, Any], *,
                principal: Principal | None = None) -> ResolutionOut:
        """One package version per package for every model version in ``request.refs``,
        chosen among the versions installed in the registry's environments and listed in
        the index snapshot. A conflict is an answer (``ok`` false), not an error."""
        body = _parse(ResolveRequest, request)
        refs = list(dict.fromkeys(_version_ref(r, f"/refs/{i}") for i, r in enumerate(body.refs)))
        for i, one in enumerate(refs):  # every version must be readable, as in the 404 below
            require_readable(self, principal, one, f"/refs/{i}")
        with self.db.read() as conn:
            requesters = _requesters(conn, refs, [f"/refs/{i}" for i in range(len(refs))])
            index = _index(conn, body.index_snapshot, body.index_file)
        resolution = resolve(requesters, index, python=body.python, platform=body.platform,
                             machine=body.machine)
        return _resolution_out(resolution)

    # why -------------------------------------------------------------------------------
    def why(self, request: WhyRequest | Mapping[str, Any], *,
            principal: Principal | None = None) -> WhyResult:
        """Why a package is among what a model version needs: its own declarations of it
        and the chains of dependencies that bring it in (known from an index snapshot)."""
        body = _parse(WhyRequest, request)
        parsed = _version_ref(body.ref)
        package = _package_name(body.package)
        require_readable(self, principal, parsed)
        with self.db.read() as conn:
            requesters = _requesters(conn, [parsed], ["/ref"])
            index = _index(conn, body.index_snapshot, body.index_file)
        declared = requesters[0][1]
        direct = [p for p in ModelRequirements.of(str(parsed), declared).packages
                  if p.name == package]
        resolution = resolve(requesters, index, python=body.python, platform=body.platform,
                             machine=body.machine)
        if not resolution.ok:
            return WhyResult(ref=str(parsed), package=package, direct=direct,
                             conflicts=[c.message for c in resolution.conflicts])
        chains = [[_demand(d) for d in chain] for chain in _chains(resolution, package)]
        return WhyResult(ref=str(parsed), package=package,
                         pinned=resolution.pins.get(package), direct=direct, chains=chains)


# --- helpers ------------------------------------------------------------------------------


def _package_name(text: str) -> str:
    try:
        return canonicalize_name(text.strip(), validate=True)
    except Exception:  # packaging.utils.InvalidName
        raise InvalidInput.at("/package", f"{text!r} is not a package name") from None


def _parse(model: type[M], data: M | Mapping[str, Any]) -> M:
    """A request model from an in-process caller's dict, failing as the API would."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None


def _requesters(
    conn: Connection, refs: Sequence[Ref], paths: Sequence[str]
) -> list[tuple[str, Requirements]]:
    found = []
    for ref, path in zip(refs, paths, strict=True):
        asset_id = q.require_id(conn, ref, path)
        found.append((owner_label(ref), load_requirements(conn, asset_id)))
    return found


def _index(conn: Connection, snapshot: str | None, file: str) -> PackageIndex:
    """The versions installed in every environment asset (there are few), plus the
    snapshot's releases with their dependencies."""
    rows = conn.execute(
        sa.select(assets.c.namespace, assets.c.name, assets.c.version, assets.c.meta)
        .where(assets.c.kind == "environment")
    ).all()
    envs = [environment_from_meta(f"environment:{r.namespace}/{r.name}", r.meta) for r in rows]
    index = PackageIndex.from_environments(envs)
    if snapshot:
        index = index.merge(PackageIndex.parse_snapshot(snapshot, file=file))
    return index


def _target_environment(conn: Connection, target: str | Ref | None) -> tuple[Environment, str]:
    parsed = target if isinstance(target, Ref) else Ref.parse(str(target), path="/target")
    if parsed.kind not in ("environment", "deployment"):
        raise InvalidInput.at("/target", f"an environment or a deployment, not a {parsed.kind}")
    row = conn.execute(q.ASSET_BY_REF, q.ref_params(parsed)).first()
    if row is None:
        raise InvalidInput.at("/target", f"{parsed} does not exist")
    if parsed.kind == "environment":
        return environment_from_meta(str(parsed), row.meta), str(parsed)
    envs = conn.execute(
        sa.select(assets).join(relations, relations.c.target_id == assets.c.id).where(
            relations.c.source_id == row.id, relations.c.relation == "requires",
            assets.c.kind == "environment",
        ).order_by(assets.c.id)
    ).all()
    if len(envs) != 1:
        how = "none" if not envs else f"{len(envs)}"
        raise InvalidInput.at("/target", f"{parsed} requires {how} environments; link exactly "
                                          f"one: modelatlas link {parsed} requires ENVIRONMENT")
    env = envs[0]
    name = q.asset_from_row(env).ref
    return environment_from_meta(name, env.meta), str(parsed)


def _violation(v: Violation) -> ViolationOut:
    return ViolationOut(kind=v.kind, subject=v.subject, message=v.message,
                        origin=origin_out(v.origin), owner=v.owner)


def _asset_violations(conn: Connection, owner: str, declared: Requirements) -> list[ViolationOut]:
    """Registry requirements checked against the graph as it is now: the asset exists and
    a version satisfies the constraint (assets may have been archived or removed since)."""
    found = []
    for asset in declared.assets:
        node, reason = satisfying_version(conn, asset)
        if node is None:
            message = f"{reason} ({owner}, {asset.origin})"
            found.append(ViolationOut(kind="asset", subject=asset.ref, message=message,
                                      origin=origin_out(asset.origin), owner=owner))
    return found


def _demand(d: Demand) -> DemandOut:
    return DemandOut(requirement=d.requirement, origin=origin_out(d.origin),
                     owners=list(d.owners), parent=d.parent, text=str(d))


def _resolution_out(r: Resolution) -> ResolutionOut:
    return ResolutionOut(
        ok=r.ok, python=r.python, platform=r.platform, machine=r.machine, pins=r.pins,
        required_by={name: [_demand(d) for d in ds] for name, ds in r.required_by.items()},
        conflicts=[ConflictOut(kind=c.kind, package=c.package,
                               constraints=[_demand(d) for d in c.constraints],
                               models=list(c.models), known_versions=list(c.known_versions),
                               message=c.message) for c in r.conflicts],
        unknown_dependencies=list(r.unknown_dependencies), direct_urls=r.direct_urls,
    )


def _chains(resolution: Resolution, package: str) -> Iterator[list[Demand]]:
    """Each path of demands from one of the model's own requirements down to ``package``
    (at most :data:`MAX_CHAINS`), walking ``required_by`` up through the parents."""
    found = 0

    def walk(name: str, below: list[Demand], seen: frozenset[str]) -> Iterator[list[Demand]]:
        nonlocal found
        for demand in resolution.required_by.get(name, ()):
            if found >= MAX_CHAINS:
                return
            chain = [demand, *below]
            if demand.parent is None:
                found += 1
                yield chain
                continue
            parent = canonicalize_name(demand.parent.split(" ")[0].split("[")[0])
            if parent not in seen:
                yield from walk(parent, chain, seen | {parent})

    yield from walk(package, [], frozenset({package}))

