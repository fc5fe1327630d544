"""pip's requirements file format, and ``pip freeze`` output.

Rules, following pip where pip has one:

* A line ending in ``\\`` continues on the next; the requirement's line is the first one.
* ``#`` starts a comment at the start of a line or after whitespace (``#egg=`` in a URL is
  not a comment). Blank lines are skipped.
* ``-r``/``--requirement FILE`` reads FILE, relative to the including file, as more
  requirements; ``-c``/``--constraint FILE`` reads FILE as constraints, which
  :func:`parse_requirements_file` returns apart and :func:`parse_requirements_txt` leaves
  out: a constraint narrows a version without asking for the package. A file already read
  in the same role is not read twice; an include that would re-enter a file being read is a
  cycle, reported at the ``-r`` line that closes it. URLs are not fetched.
* Index and install options (``-i``, ``--index-url``, ``--extra-index-url``, ``-f``,
  ``--find-links``, ``--trusted-host``, ``--pre``, ``--no-index``, ``--prefer-binary``,
  ``--require-hashes``, ``--only-binary``, ``--no-binary``, ``--use-feature``) are accepted
  and ignored; an unknown option is an error.
* After a requirement: ``--hash=ALG:HEX`` (sha256, sha384 or sha512, kept in ``hashes``),
  ``--config-settings``, ``--global-option``, ``--install-option`` (ignored).
* A requirement is PEP 508 (extras, markers, ``name @ url``), or a bare URL or path whose
  name is known from ``#egg=NAME`` or a wheel or sdist file name; otherwise it is an error.
* ``-e``/``--editable`` needs ``#egg=NAME``; ``pip freeze`` output may instead name the
  project in the ``# Editable install with no version control (NAME==VERSION)`` comment
  pip writes before it. Either way ``url`` keeps the location as written.
* ``${VAR}`` is not expanded.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from modelatlas.deps.model import Origin, PackageRequirement
from modelatlas.deps.sources._base import (
    MAX_INCLUDE_DEPTH,
    NAME_RE,
    canonical_extras,
    check_size,
    display_name,
    fail,
    first_line,
    package_from_pep508,
    read_text,
)

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NAME_AT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_EXTRAS_RE = re.compile(r"^(?P<location>.+?)\[(?P<extras>[^\]]*)\]$")
_EGG_RE = re.compile(r"[#&]egg=(?P<name>[^&#\s\[]+)")
_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
_FREEZE_EDITABLE_RE = re.compile(r"^#\s*Editable\b.*\((?P<name>[^=()\s]+)==[^()\s]+\)\s*$")
_FREEZE_NOISE = ("WARNING:", "DEPRECATION:")

_SHORT_OPTIONS = {
    "-r": "--requirement",
    "-c": "--constraint",
    "-e": "--editable",
    "-i": "--index-url",
    "-f": "--find-links",
    "-C": "--config-settings",
}
_VALUE_OPTIONS = frozenset(
    {
        "--requirement",
        "--constraint",
        "--editable",
        "--index-url",
        "--extra-index-url",
        "--find-links",
        "--trusted-host",
        "--hash",
        "--no-binary",
        "--only-binary",
        "--use-feature",
        "--config-settings",
        "--global-option",
        "--install-option",
    }
)
_FLAG_OPTIONS = frozenset({"--pre", "--no-index", "--prefer-binary", "--require-hashes"})
_PER_REQUIREMENT = frozenset({"--hash", "--config-settings", "--global-option", "--install-option"})
_HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class RequirementsFile:
    """A requirements file read whole: what it requires, and the constraints it names."""

    requirements: tuple[PackageRequirement, ...]
    constraints: tuple[PackageRequirement, ...]


@dataclass(frozen=True)
class Line:
    """One logical line: a requirement, includes (``(is_constraint, target)``), or neither."""

    requirement: PackageRequirement | None = None
    includes: tuple[tuple[bool, str], ...] = ()


def parse_requirements_txt(path: Path, *, root: Path | None = None) -> list[PackageRequirement]:
    """The requirements of a requirements file and the files it includes with ``-r``."""
    return list(parse_requirements_file(path, root=root).requirements)


def parse_requirements_file(path: Path, *, root: Path | None = None) -> RequirementsFile:
    """Requirements and constraints of ``path``. Origins name files relative to ``root``
    (default: the directory of ``path``)."""
    reader = RequirementsReader(root if root is not None else path.parent)
    reader.read_top(path)
    return reader.result()


def parse_pip_freeze(text: str, *, file: str = "pip freeze") -> list[PackageRequirement]:
    """The packages of ``pip freeze`` output (``==`` pins, ``name @ url``, ``-e`` lines).
    Comments and pip's ``WARNING:`` lines are skipped; includes are refused, since the
    output has no directory to resolve them against."""
    check_size(len(text.encode("utf-8", "surrogatepass")), file)
    found: list[PackageRequirement] = []
    editable_name: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            match = _FREEZE_EDITABLE_RE.match(line)
            editable_name = match.group("name") if match else editable_name
            continue
        if not line or line.startswith(_FREEZE_NOISE):
            continue
        origin = Origin(file, number)
        parsed = parse_line(_COMMENT_RE.sub("", line), origin, editable_name=editable_name)
        editable_name = None
        if parsed.includes:
            raise fail(origin, "includes (-r, -c) are not read from pip freeze output")
        if parsed.requirement is not None:
            found.append(parsed.requirement)
    return found


def strip_comment(text: str) -> str:
    """``text`` without a trailing ``#`` comment, stripped."""
    return _COMMENT_RE.sub("", text).strip()


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(first line number, text)`` per logical line: continuations joined, comments and
    blank lines dropped."""
    start = 0
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        is_comment = raw.lstrip().startswith("#")
        if raw.endswith("\\") and not is_comment:
            if not parts:
                start = number
            parts.append(raw[:-1])
            continue
        if parts:
            # As in pip, a comment line ends a continuation without adding to it.
            joined = "".join(parts) + ("" if is_comment else raw)
            parts = []
            number, raw = start, joined
        text_line = _COMMENT_RE.sub("", raw).strip()
        if text_line:
            yield number, text_line
    if parts:
        text_line = _COMMENT_RE.sub("", "".join(parts)).strip()
        if text_line:
            yield start, text_line


class RequirementsReader:
    """Reads requirement lines and follows their includes, collecting requirements and
    constraints in order. Also used for the ``pip:`` lists of conda and MLflow files, whose
    ``-r`` lines resolve against the YAML file's directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._requirements: list[PackageRequirement] = []
        self._constraints: list[PackageRequirement] = []
        self._read: set[tuple[Path, bool]] = set()

    def result(self) -> RequirementsFile:
        return RequirementsFile(tuple(self._requirements), tuple(self._constraints))

    def read_top(self, path: Path) -> None:
        name = display_name(path, self.root)
        resolved = path.resolve()
        self._read.add((resolved, False))
        text = read_text(path, name)
        lines = ((Origin(name, number), line) for number, line in logical_lines(text))
        self.read_lines(lines, base=path.parent, constraint=False, stack=((resolved, name),))

    def read_lines(
        self,
        lines: Iterable[tuple[Origin, str]],
        *,
        base: Path,
        constraint: bool,
        stack: tuple[tuple[Path, str], ...],
    ) -> None:
        """Parse ``lines``; ``stack`` holds the files being read, outermost first."""
        into = self._constraints if constraint else self._requirements
        for origin, text in lines:
            parsed = parse_line(text, origin)
            if parsed.requirement is not None:
                into.append(parsed.requirement)
            for nested_constraint, target in parsed.includes:
                self._include(target, origin, base=base, constraint=nested_constraint, stack=stack)

    def _include(
        self,
        target: str,
        origin: Origin,
        *,
        base: Path,
        constraint: bool,
        stack: tuple[tuple[Path, str], ...],
    ) -> None:
        if _URL_RE.match(target):
            raise fail(origin, f"include {target!r} is a URL; only local files are read")
        path = base / target
        resolved = path.resolve()
        name = display_name(path, self.root)
        if any(resolved == entry for entry, _ in stack):
            chain = " -> ".join([*(entry_name for _, entry_name in stack), name])
            raise fail(origin, f"include cycle: {chain}")
        if len(stack) > MAX_INCLUDE_DEPTH:
            raise fail(origin, f"includes nest deeper than {MAX_INCLUDE_DEPTH} files")
        if not path.is_file():
            raise fail(origin, f"included file {target!r} not found (looked for {name})")
        if (resolved, constraint) in self._read:
            return  # read already through another include: same lines, same origins
        self._read.add((resolved, constraint))
        text = read_text(path, name)
        lines = ((Origin(name, number), line) for number, line in logical_lines(text))
        self.read_lines(
            lines, base=path.parent, constraint=constraint, stack=(*stack, (resolved, name))
        )


def parse_line(text: str, origin: Origin, *, editable_name: str | None = None) -> Line:
    """One logical line (comments already removed). ``editable_name`` names an ``-e`` line
    that has no ``#egg=``."""
    requirement_text, options_text = _split_requirement(text)
    options = _options(options_text, origin) if options_text else []
    hashes = tuple(_check_hash(value or "", origin) for name, value in options if name == "--hash")
    if requirement_text:
        for name, _ in options:
            if name not in _PER_REQUIREMENT:
                raise fail(origin, f"option {name} cannot follow a requirement on its line")
        return Line(requirement=_requirement(requirement_text, origin, hashes))
    if hashes:
        raise fail(origin, "--hash must follow a requirement on the same line")
    requirement: PackageRequirement | None = None
    includes: list[tuple[bool, str]] = []
    for name, value in options:
        if name in ("--requirement", "--constraint"):
            includes.append((name == "--constraint", value or ""))
        elif name == "--editable":
            if requirement is not None:
                raise fail(origin, "one -e requirement per line")
            requirement = _editable(value or "", origin, editable_name)
    return Line(requirement=requirement, includes=tuple(includes))


def _split_requirement(text: str) -> tuple[str, str]:
    # As pip does: the requirement is every token before the first one starting with '-'.
    for match in re.finditer(r"\S+", text):
        if match.group().startswith("-"):
            return text[: match.start()].strip(), text[match.start() :]
    return text.strip(), ""


def _options(text: str, origin: Origin) -> list[tuple[str, str | None]]:
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise fail(origin, f"cannot read options {text.strip()!r}: {exc}") from None
    options: list[tuple[str, str | None]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name, value = _option_token(token)
        if name in _FLAG_OPTIONS:
            if value is not None:
                raise fail(origin, f"option {name} takes no value")
        elif name in _VALUE_OPTIONS:
            if value is None:
                if index >= len(tokens):
                    raise fail(origin, f"option {name} needs a value")
                value = tokens[index]
                index += 1
        else:
            raise fail(origin, f"unknown option {token!r}")
        options.append((name, value))
    return options


def _option_token(token: str) -> tuple[str, str | None]:
    if token.startswith("--"):
        name, equals, value = token.partition("=")
        return name, (value if equals else None)
    short = token[:2]
    if short in _SHORT_OPTIONS and len(token) > 2:  # -rfile.txt, as optparse allows
        return _SHORT_OPTIONS[short], token[2:]
    return _SHORT_OPTIONS.get(token, token), None


def _check_hash(value: str, origin: Origin) -> str:
    algorithm, _, digest = value.partition(":")
    expected = _HASH_LENGTHS.get(algorithm)
    if expected is None:
        raise fail(origin, f"--hash {value!r}: algorithm must be one of sha256, sha384, sha512")
    if len(digest) != expected or not re.fullmatch(r"[0-9a-fA-F]+", digest):
        raise fail(origin, f"--hash {value!r}: expected {expected} hex digits after '{algorithm}:'")
    return f"{algorithm}:{digest.lower()}"


def _requirement(text: str, origin: Origin, hashes: tuple[str, ...]) -> PackageRequirement:
    if _is_bare_reference(text):
        return _bare_reference(text, origin, hashes)
    return package_from_pep508(text, origin, hashes=hashes)


def _is_bare_reference(text: str) -> bool:
    """A URL or path without ``name @`` in front, as pip accepts them."""
    if _NAME_AT_RE.match(text):
        return False
    head = re.split(r"[\s;]", text, maxsplit=1)[0]
    return bool(
        _URL_RE.match(head)
        or head.startswith((".", "/", "~"))
        or "/" in head
        or "\\" in head
        or head.endswith(_ARCHIVES)
    )


def _bare_reference(text: str, origin: Origin, hashes: tuple[str, ...]) -> PackageRequirement:
    # pip separates a URL's marker with "; " (a URL may hold ';'), a path's with ';'.
    separator = r";\s" if _URL_RE.match(text) else ";"
    location, *rest = re.split(separator, text, maxsplit=1)
    location, extras = _split_extras(location.strip())
    marker: str | None = None
    if rest:
        try:
            marker = str(Marker(rest[0].strip()))
        except InvalidMarker as exc:
            raise fail(origin, f"invalid marker {rest[0].strip()!r}: {first_line(exc)}") from None
    name = _reference_name(location)
    if name is None:
        raise fail(
            origin,
            f"cannot tell the package name of {location!r}: "
            f"write 'name @ {location}' or add '#egg=name'",
        )
    return PackageRequirement(
        name=name, extras=extras, marker=marker, url=location, hashes=hashes, origin=origin
    )


def _split_extras(location: str) -> tuple[str, tuple[str, ...]]:
    match = _EXTRAS_RE.match(location)
    if not match:
        return location, ()
    extras = [extra.strip() for extra in match.group("extras").split(",") if extra.strip()]
    return match.group("location"), canonical_extras(extras)


def _reference_name(location: str) -> str | None:
    egg = _EGG_RE.search(location)
    if egg:
        name = egg.group("name")
        return canonicalize_name(name) if NAME_RE.match(name) else None
    filename = location.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _editable(value: str, origin: Origin, fallback_name: str | None) -> PackageRequirement:
    location, extras = _split_extras(value)
    egg = _EGG_RE.search(location)
    name = egg.group("name") if egg else fallback_name
    if not name or not NAME_RE.match(name):
        raise fail(
            origin,
            f"editable requirement {value!r} does not name its package: add '#egg=<name>'",
        )
    return PackageRequirement(
        name=canonicalize_name(name), extras=extras, url=location, origin=origin
    )


__all__ = [
    "Line",
    "RequirementsFile",
    "RequirementsReader",
    "logical_lines",
    "parse_line",
    "parse_pip_freeze",
    "parse_requirements_file",
    "parse_requirements_txt",
    "strip_comment",
]
