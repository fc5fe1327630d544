"""The package universe the resolver chooses from: every release of every package the
registry knows, with the release's own dependencies when they are known.

Two sources feed it. **Observed environments** (:meth:`PackageIndex.from_environments`)
say that a version exists, nothing about what it depends on. An **index snapshot file**
(:meth:`PackageIndex.parse_snapshot`) lists releases with their dependencies, one release
per line::

    # name version [requirement | requirement ...]
    numpy 1.26.4
    numpy 2.1.0
    pandas 2.2.2 numpy>=1.23.2; python_version >= "3.11" | python-dateutil>=2.8.2 | pytz>=2020.1
    pandas 2.2.2rc1 numpy>=1.23.2
    sqlalchemy 2.0.30
    pandas 2.1.0 numpy>=1.22 | sqlalchemy>=2; extra == "sql"

- ``name`` is a distribution name (canonicalised: ``Python_DateUtil`` is
  ``python-dateutil``), ``version`` a PEP 440 version; both separated by whitespace.
- The rest of the line, if any, is the release's requirements, PEP 508 each, separated by
  ``|``. A requirement needed only with an extra carries the marker ``extra == "name"``,
  as in a wheel's metadata.
- ``#`` at the start of a line or after whitespace starts a comment; blank lines are
  ignored. A release may appear once per file.

A malformed line raises :class:`~modelatlas.errors.InvalidInput` with one
``FieldError("<file>:<line>", reason)`` per bad line. Each dependency's
:class:`~modelatlas.deps.model.Origin` is its snapshot line, so a conflict can cite it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from modelatlas.deps.model import Environment, Origin, PackageRequirement
from modelatlas.errors import FieldError, InvalidInput

_COMMENT = re.compile(r"(^|\s)#.*$")
_MAX_REPORTED_ERRORS = 50


@dataclass(frozen=True)
class Release:
    """One version of one package. ``requires_known`` is False for a version only seen
    installed somewhere: its dependencies are then unknown, not empty."""

    name: str
    version: Version
    requires: tuple[PackageRequirement, ...] = ()
    requires_known: bool = True


class PackageIndex:
    """Releases by canonical name and version. Built once per resolution from the
    registry's observations (and optionally a snapshot) and then only read."""

    def __init__(self, releases: Iterable[Release] = ()) -> None:
        self._releases: dict[str, dict[Version, Release]] = {}
        self._sorted: dict[str, list[Version]] = {}
        for release in releases:
            self._add(release)

    def _add(self, release: Release) -> None:
        """Add a release. A release whose dependencies are known replaces one whose are
        not; between two that both know theirs, the later one wins."""
        versions = self._releases.setdefault(release.name, {})
        existing = versions.get(release.version)
        if existing is not None and existing.requires_known and not release.requires_known:
            return
        versions[release.version] = release
        self._sorted.pop(release.name, None)

    # --- reading ---------------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonicalize_name(name) in self._releases

    def __len__(self) -> int:
        return sum(len(v) for v in self._releases.values())

    def __iter__(self) -> Iterator[Release]:
        for name in sorted(self._releases):
            for version in self.versions(name):
                yield self._releases[name][version]

    def names(self) -> list[str]:
        return sorted(self._releases)

    def versions(self, name: str) -> list[Version]:
        """The known versions of ``name``, newest first (empty when unknown)."""
        key = canonicalize_name(name)
        cached = self._sorted.get(key)
        if cached is None:
            cached = sorted(self._releases.get(key, {}), reverse=True)
            self._sorted[key] = cached
        return cached

    def release(self, name: str, version: Version) -> Release | None:
        return self._releases.get(canonicalize_name(name), {}).get(version)

    # --- building --------------------------------------------------------------------

    def merge(self, *others: PackageIndex) -> PackageIndex:
        """A new index with this one's releases and then each of ``others``' (see
        :meth:`_add` for which release wins when both list one)."""
        merged = PackageIndex(self)
        for other in others:
            for release in other:
                merged._add(release)
        return merged

    @classmethod
    def from_environments(cls, envs: Iterable[Environment]) -> PackageIndex:
        """The versions installed in ``envs``, with unknown dependencies. An installed
        version that is not PEP 440 cannot be resolved to, so it is left out."""
        releases: list[Release] = []
        for env in envs:
            for name, text in env.packages.items():
                try:
                    version = Version(text)
                    key = canonicalize_name(name, validate=True)
                except (InvalidVersion, InvalidName):
                    continue
                releases.append(Release(key, version, requires_known=False))
        return cls(releases)

    @classmethod
    def load_snapshot(cls, path: str | Path) -> PackageIndex:
        """Read a snapshot file (format in the module docstring); lines are cited by the
        path as given."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput.at(str(path), f"cannot read the index snapshot: {exc}") from exc
        return cls.parse_snapshot(text, file=str(path))

    @classmethod
    def parse_snapshot(cls, text: str, *, file: str = "index.txt") -> PackageIndex:
        """Parse snapshot ``text`` (format in the module docstring). All bad lines are
        reported at once, each as ``FieldError("<file>:<line>", reason)``. The last few
        snapshots read are kept parsed: a deployment pipeline resolves against the same
        snapshot again and again, and reading 10,000 releases costs a second."""
        return _parsed_snapshot(text, file)

    @classmethod
    def _parse_snapshot(cls, text: str, file: str) -> PackageIndex:
        releases: list[Release] = []
        errors: list[FieldError] = []
        first_seen: dict[tuple[str, Version], int] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = _COMMENT.sub("", raw).strip()
            if not line:
                continue
            try:
                release = _parse_line(line, Origin(file, number))
            except ValueError as exc:
                errors.append(FieldError(f"{file}:{number}", str(exc)))
                continue
            key = (release.name, release.version)
            if key in first_seen:
                reason = f"{release.name} {release.version} is listed again (first at line "
                errors.append(FieldError(f"{file}:{number}", f"{reason}{first_seen[key]})"))
                continue
            first_seen[key] = number
            releases.append(release)
        if errors:
            shown = errors[:_MAX_REPORTED_ERRORS]
            detail = f"{len(errors)} malformed line(s) in index snapshot {file}: "
            raise InvalidInput(
                detail + "; ".join(f"{e.path}: {e.message}" for e in shown[:3]), errors=shown
            )
        return cls(releases)


@lru_cache(maxsize=4)
def _parsed_snapshot(text: str, file: str) -> PackageIndex:
    return PackageIndex._parse_snapshot(text, file)


def _parse_line(line: str, origin: Origin) -> Release:
    """One snapshot line; raises ValueError with the reason."""
    parts = line.split(None, 2)
    if len(parts) < 2:
        raise ValueError("expected 'name version [requirement | ...]'")
    name_text, version_text = parts[0], parts[1]
    try:
        name = canonicalize_name(name_text, validate=True)
    except InvalidName:
        raise ValueError(f"invalid package name {name_text!r}") from None
    try:
        version = Version(version_text)
    except InvalidVersion:
        raise ValueError(f"invalid version {version_text!r} of {name}") from None
    requires: list[PackageRequirement] = []
    if len(parts) == 3:
        for piece in parts[2].split("|"):
            requires.append(package_requirement(piece.strip(), origin))
    return Release(name, version, tuple(requires))


def package_requirement(text: str, origin: Origin) -> PackageRequirement:
    """A PEP 508 string as a :class:`PackageRequirement`; raises ValueError."""
    if not text:
        raise ValueError("empty requirement (two '|' in a row, or one at the end)")
    name, specifier, extras, marker, url = _parsed(text)
    return PackageRequirement(name=name, specifier=specifier, extras=extras, marker=marker,
                              url=url, origin=origin)


@lru_cache(maxsize=65_536)
def _parsed(text: str) -> tuple[str, str, tuple[str, ...], str | None, str | None]:
    """The parts of one requirement string. A snapshot of PyPI's shape repeats the same
    few thousand requirement strings across its releases, and packaging's parser is the
    bulk of reading one (30k parses: ~2 s), so each distinct string is parsed once."""
    try:
        parsed = Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(f"invalid requirement {text!r}: {exc}") from None
    return (canonicalize_name(parsed.name), str(parsed.specifier),
            tuple(sorted(canonicalize_name(e) for e in parsed.extras)),
            str(parsed.marker) if parsed.marker is not None else None, parsed.url)
