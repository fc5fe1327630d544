"""One set of package versions for several model versions served from one image.

:func:`resolve` takes the requirements of each model version to be co-deployed and a
:class:`~modelatlas.deps.index.PackageIndex` (the versions the registry knows), and asks
resolvelib for one version of each package that satisfies every model and every chosen
release's own dependencies. It prefers the newest versions; a prerelease is chosen only
when a requirement on that package names a prerelease (``==2.0.0rc1``, ``>=2.0b1``).

Every requirement remembers who asked for it: the model version (its label, e.g.
``fraud/churn@7``) and the file and line that declared it, or the release whose dependency
it is. So when no solution exists, the answer is a short explanation rather than a
failure: for each clashing package, the smallest set of constraints that no known version
satisfies together, each traced back to the models that bring it in::

    numpy: numpy<1.25 (risk/score@2, pyproject.toml:12) conflicts with numpy>=1.26
    (required by pandas 2.2.2, index.txt:4; via fraud/churn@7); known versions: 2.1.0, ...

Markers are evaluated against the target Python and platform. Without an explicit
``python``, the target is the newest CPython in :data:`KNOWN_PYTHONS` that every model's
``python`` constraint allows. Requirements on a direct URL are not resolved against the
index; they are returned in :attr:`Resolution.direct_urls`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import (
    AbstractProvider,
    BaseReporter,
    ResolutionImpossible,
    ResolutionTooDeep,
    Resolver,
)
from resolvelib.structs import RequirementInformation

if TYPE_CHECKING:
    from resolvelib.resolvers.abstract import Result

from modelatlas.deps.check import marker_applies, marker_environment, parse_specifier
from modelatlas.deps.index import PackageIndex
from modelatlas.deps.model import Origin, PackageRequirement, Requirements
from modelatlas.errors import InvalidInput

#: CPython minor versions a target Python is chosen from when none is given.
KNOWN_PYTHONS: tuple[str, ...] = tuple(f"3.{minor}" for minor in range(8, 15))

ConflictKind = Literal["clash", "no_matching_version", "unknown_package", "python", "too_deep"]

_SHOWN_VERSIONS = 10
_T = TypeVar("_T")


@dataclass(frozen=True)
class Demand:
    """One constraint and who asked for it: a model version's own requirement
    (``parent`` None, ``owners`` that one model) or a dependency of the release ``parent``
    (``pandas 2.2.2``), with the models whose requirements brought that release in."""

    requirement: str
    origin: Origin | None
    owners: tuple[str, ...]
    parent: str | None = None

    def __str__(self) -> str:
        at = f", {self.origin}" if self.origin is not None else ""
        if self.parent is None:
            return f"{self.requirement} ({', '.join(self.owners)}{at})"
        via = f"; via {', '.join(self.owners)}" if self.owners else ""
        return f"{self.requirement} (required by {self.parent}{at}{via})"


@dataclass(frozen=True)
class Conflict:
    """Why no solution exists for ``package``: the clashing ``constraints`` (the smallest
    set that no known version satisfies together), the ``models`` they come from, and the
    ``known_versions`` (newest first) they were matched against."""

    kind: ConflictKind
    package: str
    constraints: tuple[Demand, ...]
    models: tuple[str, ...]
    known_versions: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Resolution:
    """The outcome of :func:`resolve`. ``pins`` holds one version per package (names
    canonical) and ``required_by`` who required each, or both are empty when packages
    clash. ``ok`` is False when ``conflicts`` is not empty; a ``python`` conflict alone
    still comes with the pins for ``python``. ``unknown_dependencies`` lists pinned
    releases known only from observed environments, whose own dependencies were not
    checked (``numpy 1.26.4``)."""

    python: str
    platform: str
    machine: str
    pins: dict[str, str] = field(default_factory=dict)
    required_by: dict[str, tuple[Demand, ...]] = field(default_factory=dict)
    conflicts: tuple[Conflict, ...] = ()
    unknown_dependencies: tuple[str, ...] = ()
    direct_urls: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.conflicts


# --- resolvelib's three types: requirement, candidate, identifier (str) -------------------


@dataclass(frozen=True, eq=False)
class _Req:
    """A requirement inside the resolver. Compared by identity: two models requiring the
    same ``numpy<2`` are two requirements with two origins."""

    name: str
    extras: frozenset[str]
    spec: SpecifierSet
    spec_text: str  # the key of the satisfaction memo: a str hashes once, a SpecifierSet always
    text: str  # as declared, for explanations
    origin: Origin | None
    owner: str | None  # the model version, for a root requirement
    exact: bool = field(init=False)  # ``==1.2.3``: cannot branch, so pinned first

    def __post_init__(self) -> None:
        exact = any(s.operator in ("==", "===") and "*" not in s.version for s in self.spec)
        object.__setattr__(self, "exact", exact)

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)


@dataclass(eq=False)
class _Candidate:
    """One release (with extras) as a resolver candidate. The provider makes one object per
    release and identifier, so identity is equality and hashing is cheap."""

    name: str
    version: Version
    extras: frozenset[str] = frozenset()
    satisfies: dict[str, bool] = field(default_factory=dict, repr=False)  # by spec_text

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        return f"{self.name}{extras} {self.version}"


def _identifier(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def _allows(reqs: Iterable[_Req], version: Version) -> bool:
    """Whether ``version`` satisfies every requirement in ``reqs``, prereleases only when
    one of them names a prerelease."""
    reqs = list(reqs)
    if version.is_prerelease and not any(r.spec.prereleases for r in reqs):
        return False
    return all(r.spec.contains(version, prereleases=True) for r in reqs)


Information = RequirementInformation[_Req, _Candidate]


class _Provider(AbstractProvider[_Req, _Candidate, str]):
    """resolvelib's view of a :class:`PackageIndex` for one target platform."""

    def __init__(self, index: PackageIndex, markers: dict[str, str]) -> None:
        self._index = index
        self._markers = markers
        self._dependencies: dict[_Candidate, list[_Req]] = {}
        self._marker_cache: dict[tuple[str, str], bool] = {}
        self._interned: dict[str, list[_Candidate]] = {}
        # Identifiers some requirement pins exactly; may keep one a backtrack removed,
        # which only changes the order of work, never the answer's validity.
        self._exact: set[str] = set()

    def identify(self, requirement_or_candidate: _Req | _Candidate) -> str:
        return _identifier(requirement_or_candidate.name, requirement_or_candidate.extras)

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, _Candidate],
        candidates: Mapping[str, Iterator[_Candidate]],
        information: Mapping[str, Iterator[Information]],
        backtrack_causes: Sequence[Information],
    ) -> list[str]:
        # Choose the one identifier to pin here, from sets, instead of letting resolvelib
        # call get_preference on every unsatisfied identifier each round: that dominated
        # the time on a few hundred packages. Same order as get_preference: what caused
        # the last backtrack, then exact pins (they cannot branch), then by name.
        ids = list(identifiers)
        causes = {c.requirement.identifier for c in backtrack_causes}
        for preferred in (causes, self._exact):
            hits = [i for i in ids if i in preferred]
            if hits:
                return [min(hits)]
        return [min(ids)]

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, _Candidate],
        candidates: Mapping[str, Iterator[_Candidate]],
        information: Mapping[str, Iterator[Information]],
        backtrack_causes: Sequence[Information],
    ) -> tuple[bool, bool, str]:
        # Unused while narrow_requirement_selection picks one identifier; the same order.
        causes = {c.requirement.identifier for c in backtrack_causes}
        return (identifier not in causes, identifier not in self._exact, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[_Req]],
        incompatibilities: Mapping[str, Iterator[_Candidate]],
    ) -> list[_Candidate]:
        reqs = list(requirements[identifier])
        bad = set(incompatibilities[identifier])
        allow_pre = any(r.spec.prereleases for r in reqs)
        if any(r.exact for r in reqs):
            self._exact.add(identifier)
        found = []
        for candidate in self._candidates(identifier, reqs[0]):
            if candidate in bad or (candidate.version.is_prerelease and not allow_pre):
                continue
            if all(self.is_satisfied_by(r, candidate) for r in reqs):
                found.append(candidate)
        return found

    def _candidates(self, identifier: str, requirement: _Req) -> list[_Candidate]:
        """Every known release for ``identifier``, newest first, one object each."""
        found = self._interned.get(identifier)
        if found is None:
            name, extras = requirement.name, requirement.extras
            found = [_Candidate(name, v, extras) for v in self._index.versions(name)]
            self._interned[identifier] = found
        return found

    def is_satisfied_by(self, requirement: _Req, candidate: _Candidate) -> bool:
        # resolvelib re-checks every pin against every requirement each round; a str-keyed
        # dict lookup is some thirty times cheaper than SpecifierSet.contains.
        found = candidate.satisfies.get(requirement.spec_text)
        if found is None:
            found = requirement.spec.contains(candidate.version, prereleases=True)
            candidate.satisfies[requirement.spec_text] = found
        return found

    def get_dependencies(self, candidate: _Candidate) -> list[_Req]:
        cached = self._dependencies.get(candidate)
        if cached is None:
            cached = self._compute_dependencies(candidate)
            self._dependencies[candidate] = cached
        return cached

    def _compute_dependencies(self, candidate: _Candidate) -> list[_Req]:
        release = self._index.release(candidate.name, candidate.version)
        found: list[_Req] = []
        if candidate.extras:
            # The extras pattern: pkg[x] v depends on pkg == v plus the deps of extra x.
            pin = f"=={candidate.version}"
            base = PackageRequirement(candidate.name, pin, origin=Origin(""))
            found.append(replace(_to_req(base, owner=None, where=""), origin=None))
        for dep in release.requires if release is not None else ():
            if dep.url is None and self._applies(dep, candidate.extras):
                found.append(_to_req(dep, owner=None, where=str(dep.origin)))
        return found

    def _applies(self, dep: PackageRequirement, extras: frozenset[str]) -> bool:
        if not dep.marker:
            return not extras  # the base candidate carries the unconditional dependencies
        if extras and "extra" not in dep.marker:
            return False
        return any(self._marker_true(dep, extra) for extra in (extras or {""}))

    def _marker_true(self, dep: PackageRequirement, extra: str) -> bool:
        assert dep.marker is not None
        key = (dep.marker, extra)
        cached = self._marker_cache.get(key)
        if cached is None:
            env = {**self._markers, "extra": extra}
            cached = marker_applies(dep.marker, env, where=str(dep.origin))
            self._marker_cache[key] = cached
        return cached


class _Recorder(BaseReporter[_Req, _Candidate, str]):
    """Remembers every requirement added and by which release, so that a conflict on a
    transitive dependency can be traced back to the models that caused it."""

    def __init__(self) -> None:
        self.added: dict[str, list[Information]] = defaultdict(list)

    def adding_requirement(self, requirement: _Req, parent: _Candidate | None) -> None:
        self.added[requirement.identifier].append(RequirementInformation(requirement, parent))


def _to_req(req: PackageRequirement, *, owner: str | None, where: str) -> _Req:
    name = canonicalize_name(req.name)
    extras = frozenset(canonicalize_name(e) for e in req.extras)
    try:
        spec = parse_specifier(req.specifier)
    except InvalidSpecifier as exc:
        raise InvalidInput.at(where, f"invalid version specifier {req.specifier!r}") from exc
    text = f"{_identifier(name, extras)}{req.specifier}"
    return _Req(name, extras, spec, req.specifier, text, req.origin, owner)


# --- the entry point ---------------------------------------------------------------------


def resolve(
    requesters: Sequence[tuple[str, Requirements]],
    index: PackageIndex,
    *,
    python: str | None = None,
    platform: str = "linux",
    machine: str = "x86_64",
    max_rounds: int = 20_000,
) -> Resolution:
    """One version per package satisfying every ``(label, requirements)`` in
    ``requesters`` on the target ``python`` / ``platform`` / ``machine``, chosen from
    ``index``. Never raises for an unsatisfiable set (see :attr:`Resolution.conflicts`);
    raises :class:`InvalidInput` for malformed input, naming the field
    (``/requesters/1/packages/3/specifier``)."""
    target, python_conflict = _target_python(requesters, python)
    markers = marker_environment(target, platform, machine)
    roots, urls = _root_requirements(requesters, markers)
    base = Resolution(python=target, platform=platform, machine=machine, direct_urls=urls)
    recorder = _Recorder()
    resolver: Resolver[_Req, _Candidate, str] = Resolver(_Provider(index, markers), recorder)
    try:
        result = resolver.resolve(roots, max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        causes: Sequence[Information] = list(exc.causes)
        conflicts = _explain(causes, roots, index, recorder.added)
        return replace(base, conflicts=(*_opt(python_conflict), *conflicts))
    except ResolutionTooDeep as exc:
        message = (
            f"gave up after {exc.round_count} rounds of backtracking; "
            "pin some packages more tightly and try again"
        )
        labels = tuple(sorted({label for label, _ in requesters}))
        too_deep = Conflict("too_deep", "", (), labels, (), message)
        return replace(base, conflicts=(*_opt(python_conflict), too_deep))
    return _success(base, python_conflict, result, index)


def _success(
    base: Resolution,
    python_conflict: Conflict | None,
    result: Result[_Req, _Candidate, str],
    index: PackageIndex,
) -> Resolution:
    information = {key: list(c.information) for key, c in result.criteria.items()}
    edges = {key: [c for c in result.graph.iter_children(key) if c] for key in result.graph if key}
    owners_of = _forward_owners(information, edges)
    pins: dict[str, str] = {}
    unknown: list[str] = []
    required_by: dict[str, list[Demand]] = defaultdict(list)
    for candidate in result.mapping.values():
        pins[candidate.name] = str(candidate.version)
        release = index.release(candidate.name, candidate.version)
        if not candidate.extras and (release is None or not release.requires_known):
            unknown.append(f"{candidate.name} {candidate.version}")
    for infos in information.values():
        for info in infos:
            if info.requirement.origin is not None:  # not the synthetic pkg[x] -> pkg pin
                required_by[info.requirement.name].append(_demand(info, owners_of))
    return replace(
        base,
        pins=dict(sorted(pins.items())),
        required_by={name: _order(required_by[name]) for name in sorted(required_by)},
        conflicts=_opt(python_conflict),
        unknown_dependencies=tuple(sorted(unknown)),
    )


def _opt(item: _T | None) -> tuple[_T, ...]:
    return (item,) if item is not None else ()


def _root_requirements(
    requesters: Sequence[tuple[str, Requirements]], markers: dict[str, str]
) -> tuple[list[_Req], dict[str, str]]:
    roots: list[_Req] = []
    urls: dict[str, str] = {}
    for i, (label, requirements) in enumerate(requesters):
        if not label or not isinstance(label, str):
            raise InvalidInput.at(f"/requesters/{i}/label", "a model version label is required")
        for j, req in enumerate(requirements.packages):
            where = f"/requesters/{i}/packages/{j}"
            if not marker_applies(req.marker, markers, where=f"{where}/marker"):
                continue
            if req.url:
                urls[canonicalize_name(req.name)] = req.url
                continue
            roots.append(_to_req(req, owner=label, where=f"{where}/specifier"))
    return roots, urls


# --- who asked: tracing a requirement back to the models ---------------------------------

OwnersOf = Callable[[_Candidate], tuple[str, ...]]


def _demand(info: Information, owners_of: OwnersOf) -> Demand:
    req, parent = info.requirement, info.parent
    if parent is None:
        return Demand(req.text, req.origin, (req.owner or "",))
    return Demand(req.text, req.origin, owners_of(parent), str(parent))


def _forward_owners(
    information: Mapping[str, Sequence[Information]], graph_edges: Mapping[str, Iterable[str]]
) -> OwnersOf:
    """After a success: the models behind each pinned package, by walking the result
    graph down from each model's own requirements."""
    owned: dict[str, set[str]] = defaultdict(set)
    for key, infos in information.items():
        for info in infos:
            if info.parent is None and info.requirement.owner:
                owned[key].add(info.requirement.owner)
    for root in list(owned):
        for label in list(owned[root]):
            stack, seen = [root], {root}
            while stack:
                for child in graph_edges.get(stack.pop(), ()):
                    owned[child].add(label)
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
    return lambda c: tuple(sorted(owned.get(_identifier(c.name, c.extras), ())))


def _backward_owners(added: Mapping[str, Sequence[Information]]) -> OwnersOf:
    """After a failure: the models behind a release, by walking back through every
    requirement the resolver saw that this release (and then its requirers) satisfies."""
    memo: dict[_Candidate, tuple[str, ...]] = {}

    def owners_of(start: _Candidate) -> tuple[str, ...]:
        if start in memo:
            return memo[start]
        owners: set[str] = set()
        stack, seen = [start], {start}
        while stack:
            candidate = stack.pop()
            for info in added.get(_identifier(candidate.name, candidate.extras), ()):
                if not info.requirement.spec.contains(candidate.version, prereleases=True):
                    continue
                if info.parent is None:
                    owners.add(info.requirement.owner or "")
                elif info.parent not in seen:
                    seen.add(info.parent)
                    stack.append(info.parent)
        memo[start] = tuple(sorted(owners))
        return memo[start]

    return owners_of


# --- explaining a failure ------------------------------------------------------------------


def _minimal_clash(items: Sequence[_T], satisfiable: Callable[[Sequence[_T]], bool]) -> list[_T]:
    """The smallest part of ``items`` that cannot be satisfied: every item that fails on
    its own if there are any, else an irreducible subset (dropping any member makes it
    satisfiable), else nothing when ``items`` are satisfiable together."""
    alone = [item for item in items if not satisfiable([item])]
    if alone:
        return alone
    if satisfiable(items):
        return []
    core = list(items)
    for item in list(core):
        trial = [c for c in core if c is not item]
        if not satisfiable(trial):
            core = trial
    return core


def _versions_text(versions: Sequence[object]) -> str:
    shown = ", ".join(str(v) for v in versions[:_SHOWN_VERSIONS])
    return shown + (", ..." if len(versions) > _SHOWN_VERSIONS else "")


def _clash_text(demands: Sequence[Demand]) -> str:
    if len(demands) == 1:
        return f"{demands[0]} cannot hold"
    if len(demands) == 2:
        return f"{demands[0]} conflicts with {demands[1]}"
    *first, last = map(str, demands)
    return f"{', '.join(first)} and {last} cannot all hold"


def _order(demands: Iterable[Demand]) -> tuple[Demand, ...]:
    """Deduplicated; a model's own requirements before dependencies, then by model."""
    unique = dict.fromkeys(demands)
    return tuple(sorted(unique, key=lambda d: (d.parent is not None, d.owners, str(d))))


def _package_conflict(
    name: str,
    infos: Sequence[Information],
    others: Sequence[Information],
    versions: Sequence[Version],
    owners_of: OwnersOf,
) -> Conflict | None:
    """The conflict on ``name`` from resolvelib's causes ``infos``, if they clash by
    themselves; ``others`` are the models' requirements on ``name`` not among them."""

    def satisfiable(subset: Sequence[Information]) -> bool:
        reqs = [i.requirement for i in subset]
        return any(_allows(reqs, v) for v in versions)

    core = _minimal_clash(infos, satisfiable)
    if not core:
        return None
    # Another model with the very same constraint is as much a part of the clash.
    specs = {i.requirement.text for i in core}
    core += [i for i in (*infos, *others) if i not in core and i.requirement.text in specs]
    demands = _order(_demand(i, owners_of) for i in core)
    known = f"; known versions: {_versions_text(versions)}"
    if not versions:
        message = f"no known version of {name}; required by " + " and ".join(map(str, demands))
        return _conflict("unknown_package", name, demands, versions, message)
    if all(not satisfiable([i]) for i in core):
        message = f"no known version of {name} satisfies " + "; nor ".join(map(str, demands))
        return _conflict("no_matching_version", name, demands, versions, message + known)
    return _conflict("clash", name, demands, versions, f"{name}: {_clash_text(demands)}{known}")


def _conflict(
    kind: ConflictKind,
    name: str,
    demands: tuple[Demand, ...],
    versions: Sequence[object],
    message: str,
) -> Conflict:
    models = tuple(sorted({o for d in demands for o in d.owners}))
    return Conflict(kind, name, demands, models, tuple(str(v) for v in versions), message)


def _explain(
    causes: Sequence[Information],
    roots: Sequence[_Req],
    index: PackageIndex,
    added: Mapping[str, Sequence[Information]],
) -> tuple[Conflict, ...]:
    """Conflicts from resolvelib's causes: per package, the constraints that clash.
    ``roots`` are all the models' requirements: resolvelib stops at the first clash, so
    a model with the same constraint may not be among the causes."""
    groups: dict[str, list[Information]] = defaultdict(list)
    seen: set[tuple[int, _Candidate | None]] = set()
    for info in causes:
        key = (id(info.requirement), info.parent)
        if key not in seen:
            seen.add(key)
            groups[info.requirement.name].append(info)
    owners_of = _backward_owners(added)
    conflicts = []
    for name, infos in sorted(groups.items()):
        known = {id(i.requirement) for i in infos}
        others = [
            RequirementInformation(r, None) for r in roots if r.name == name and id(r) not in known
        ]
        conflict = _package_conflict(name, infos, others, index.versions(name), owners_of)
        if conflict is not None:
            conflicts.append(conflict)
    if conflicts:
        return tuple(conflicts)
    # No package clashes on its own: the clash runs through the dependencies of every
    # version that would do, so report all the causes.
    for name, infos in sorted(groups.items()):
        demands = _order(_demand(i, owners_of) for i in infos)
        message = f"{name}: {_clash_text(demands)} (with the dependencies of their releases)"
        conflicts.append(_conflict("clash", name, demands, index.versions(name), message))
    return tuple(conflicts)


def _target_python(
    requesters: Sequence[tuple[str, Requirements]], python: str | None
) -> tuple[str, Conflict | None]:
    """The Python to resolve for, and a conflict if some model's ``python`` rules it out."""
    wanted: list[tuple[Demand, SpecifierSet]] = []
    for i, (label, requirements) in enumerate(requesters):
        if requirements.python:
            try:
                spec = parse_specifier(requirements.python)
            except InvalidSpecifier as exc:
                text = f"invalid version specifier {requirements.python!r}"
                raise InvalidInput.at(f"/requesters/{i}/python", text) from exc
            demand = Demand(f"python{requirements.python}", requirements.python_origin, (label,))
            wanted.append((demand, spec))

    def satisfiable(subset: Sequence[tuple[Demand, SpecifierSet]], version: str) -> bool:
        return all(spec.contains(version, prereleases=True) for _, spec in subset)

    if python is not None:
        try:
            Version(python)
        except InvalidVersion as exc:
            raise InvalidInput.at("/python", f"invalid Python version {python!r}") from exc
        bad = _order(d for d, spec in wanted if not satisfiable([(d, spec)], python))
        if not bad:
            return python, None
        message = f"python {python} does not satisfy " + "; nor ".join(map(str, bad))
        return python, _conflict("python", "python", bad, (python,), message)
    choices = [p for p in reversed(KNOWN_PYTHONS) if satisfiable(wanted, p)]
    if choices:
        return choices[0], None
    core = _minimal_clash(wanted, lambda s: any(satisfiable(s, p) for p in KNOWN_PYTHONS))
    demands = _order(d for d, _ in core)
    known = tuple(reversed(KNOWN_PYTHONS))
    message = f"python: {_clash_text(demands)}"
    if len(demands) == 1:
        message = f"no supported Python satisfies {demands[0]}"
    message += f"; known versions: {', '.join(known)}"
    return KNOWN_PYTHONS[-1], _conflict("python", "python", demands, known, message)
