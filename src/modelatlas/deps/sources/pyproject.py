"""``pyproject.toml``: PEP 621 ``[project]``, or Poetry's ``[tool.poetry]``.

* PEP 621: ``requires-python`` and ``dependencies``; ``optional-dependencies`` only for the
  extras asked for (an extra that lists the project itself, ``all = ["me[gpu,cli]"]``, is
  expanded). If ``dependencies`` is ``dynamic``, the files named by
  ``[tool.setuptools.dynamic] dependencies = {file = [...]}`` are read as requirements
  files; any other dynamic source is an error, since only the build backend knows it.
* Poetry, when ``[project]`` has no ``dependencies``: ``[tool.poetry.dependencies]``
  (``python`` is the Python requirement). ``^1.2.3`` is ``>=1.2.3,<2.0.0``, ``^0.2.3``
  ``>=0.2.3,<0.3.0``, ``~1.2.3`` ``>=1.2.3,<1.3.0``, a bare ``1.2.3`` is ``==1.2.3``, ``*``
  is any version; ``||`` and lists of constraints are refused. Tables may give
  ``version``, ``extras``, ``markers``, ``python`` (a ``python_full_version`` marker),
  ``git``/``url``/``path`` (the ``url``) and ``optional`` (read only for an extra in
  ``[tool.poetry.extras]`` that is asked for).

Lines: ``tomllib`` reports none, so each value's line is found by scanning the text: the
table header, then the key within that table, then each dependency string, quoted as
written, in order from the key's line. A value written with escapes is given its key's line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from modelatlas.deps.model import Origin, PackageRequirement, Requirements
from modelatlas.deps.sources._base import (
    display_name,
    fail,
    package_from_pep508,
    read_text,
    specifier_text,
)
from modelatlas.deps.sources.requirements_txt import parse_requirements_txt

_HEADER_RE = re.compile(r"^\s*\[\s*(?P<name>[^\[\]]+?)\s*\]\s*(?:#.*)?$")
_TOML_LINE_RE = re.compile(r"line (\d+)")
_OP_SPACE_RE = re.compile(r"(===|==|!=|~=|<=|>=|<|>|\^|~)\s+")


class TomlLines:
    """Finds the lines of tables, keys and string values in TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def table(self, header: tuple[str, ...]) -> int | None:
        """0-based index of the ``[a.b]`` header line."""
        for index, line in enumerate(self.lines):
            match = _HEADER_RE.match(line)
            if match and _key_parts(match.group("name")) == header:
                return index
        return None

    def key(self, header: tuple[str, ...], key: str) -> int | None:
        """0-based index of the line assigning ``key`` inside table ``header``."""
        start = self.table(header)
        if start is None:
            return None
        quoted = re.escape(key)
        pattern = re.compile(rf"^\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*=")
        for index in range(start + 1, len(self.lines)):
            if _HEADER_RE.match(self.lines[index]):
                return None
            if pattern.match(self.lines[index]):
                return index
        return None

    def values(self, start: int | None, values: Iterable[str]) -> list[int | None]:
        """1-based lines of ``values``, searched for in order from line index ``start``."""
        if start is None:
            return [None for _ in values]
        found: list[int | None] = []
        line, column = start, 0
        for value in values:
            hit = self._find(value, line, column)
            if hit is None:
                found.append(line + 1)  # written with escapes: the best guess is nearby
                continue
            line, column = hit
            found.append(line + 1)
        return found

    def _find(self, value: str, line: int, column: int) -> tuple[int, int] | None:
        quoted = (f'"{value}"', f"'{value}'")
        for index in range(line, len(self.lines)):
            text = self.lines[index][column if index == line else 0 :]
            offsets = [text.find(q) for q in quoted if q in text]
            if offsets:
                base = column if index == line else 0
                return index, base + min(offsets) + len(value) + 2
        return None


def parse_pyproject(
    path: Path, *, extras: Iterable[str] = (), root: Path | None = None
) -> Requirements:
    """The requirements ``pyproject.toml`` declares, with the optional dependencies of
    ``extras``."""
    root = root if root is not None else path.parent
    name = display_name(path, root)
    text = read_text(path, name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        # tomllib says "at end of document" rather than give the last line's number.
        line = match.group(1) if match else str(text.count("\n") + 1)
        where = f"{name}:{line}"
        raise fail(where, f"invalid TOML: {str(exc).split(' (at ')[0]}") from None
    lines = TomlLines(text)
    wanted = [str(canonicalize_name(extra)) for extra in extras]
    project = data.get("project")
    if isinstance(project, dict) and (
        "dependencies" in project or "dependencies" in project.get("dynamic", [])
    ):
        return _pep621(project, data, lines, name, path, root, wanted)
    poetry = _table(data, "tool", "poetry")
    if "dependencies" in poetry:
        return _poetry(poetry, lines, name, wanted)
    if isinstance(project, dict):
        return _pep621(project, data, lines, name, path, root, wanted)
    raise fail(name, "no [project] table and no [tool.poetry.dependencies]")


def _pep621(
    project: dict[str, Any],
    data: dict[str, Any],
    lines: TomlLines,
    name: str,
    path: Path,
    root: Path,
    wanted: list[str],
) -> Requirements:
    header = ("project",)
    python, python_origin = None, None
    if "requires-python" in project:
        python_origin = _origin(name, lines.key(header, "requires-python"))
        value = _string(project["requires-python"], python_origin, "requires-python")
        python = specifier_text(value, python_origin, what="requires-python")
    if "dependencies" in project.get("dynamic", []):
        packages = _dynamic(data, lines, name, path, root)
    else:
        packages = _strings_as_requirements(project.get("dependencies", []), lines, name, header)
    optional = project.get("optional-dependencies", {})
    packages += _pep621_extras(project, optional, lines, name, wanted)
    return Requirements(python=python, python_origin=python_origin, packages=tuple(packages))


def _pep621_extras(
    project: dict[str, Any],
    optional: Any,
    lines: TomlLines,
    name: str,
    wanted: list[str],
) -> list[PackageRequirement]:
    header = ("project", "optional-dependencies")
    where = _origin(name, lines.table(header))
    if not isinstance(optional, dict):
        raise fail(where, "[project.optional-dependencies] must be a table")
    by_extra: dict[str, str] = {canonicalize_name(key): key for key in optional}
    own = canonicalize_name(str(project.get("name", ""))) if project.get("name") else None
    found: list[PackageRequirement] = []
    todo, seen = list(wanted), set[str]()
    while todo:
        extra = todo.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in by_extra:
            known = ", ".join(sorted(by_extra)) or "none"
            raise fail(where, f"no extra {extra!r} in [project.optional-dependencies] ({known})")
        key = by_extra[extra]
        for req in _strings_as_requirements(optional[key], lines, name, header, key=key):
            if own is not None and req.name == own:
                todo += list(req.extras)  # `all = ["me[gpu]"]` asks for another extra
            else:
                found.append(req)
    return found


def _dynamic(
    data: dict[str, Any], lines: TomlLines, name: str, path: Path, root: Path
) -> list[PackageRequirement]:
    spec = _table(data, "tool", "setuptools", "dynamic").get("dependencies")
    files = spec.get("file") if isinstance(spec, dict) else None
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        where = _origin(name, lines.key(("project",), "dynamic"))
        raise fail(
            where,
            "dependencies are dynamic and not read from files by "
            "[tool.setuptools.dynamic]; read the requirements file they come from",
        )
    where = _origin(name, lines.key(("tool", "setuptools", "dynamic"), "dependencies"))
    found: list[PackageRequirement] = []
    for file in files:
        target = path.parent / file
        if not target.is_file():
            raise fail(where, f"dynamic dependencies file {file!r} not found")
        found += parse_requirements_txt(target, root=root)
    return found


def _strings_as_requirements(
    values: Any,
    lines: TomlLines,
    name: str,
    header: tuple[str, ...],
    *,
    key: str = "dependencies",
) -> list[PackageRequirement]:
    key_line = lines.key(header, key)
    where = _origin(name, key_line)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise fail(where, f"[{'.'.join(header)}] {key} must be a list of strings")
    numbers = lines.values(key_line, values)
    return [
        package_from_pep508(value, Origin(name, number))
        for value, number in zip(values, numbers, strict=True)
    ]


def _poetry(poetry: dict[str, Any], lines: TomlLines, name: str, wanted: list[str]) -> Requirements:
    header = ("tool", "poetry", "dependencies")
    table = poetry["dependencies"]
    if not isinstance(table, dict):
        raise fail(_origin(name, lines.table(header)), "[tool.poetry.dependencies] must be a table")
    extras = poetry.get("extras", {})
    chosen = {
        canonicalize_name(package)
        for extra, packages in (extras.items() if isinstance(extras, dict) else [])
        if canonicalize_name(extra) in wanted and isinstance(packages, list)
        for package in packages
        if isinstance(package, str)
    }
    python, python_origin = None, None
    packages: list[PackageRequirement] = []
    for key, value in table.items():
        origin = _origin(name, lines.key(header, key))
        if key == "python":
            python_origin = origin
            python = poetry_constraint(_string(value, origin, "python"), origin)
            continue
        optional = isinstance(value, dict) and value.get("optional")
        if optional and canonicalize_name(key) not in chosen:
            continue
        packages.append(_poetry_dependency(key, value, origin))
    return Requirements(
        python=python or None, python_origin=python_origin, packages=tuple(packages)
    )


def _poetry_dependency(key: str, value: Any, origin: Origin) -> PackageRequirement:
    if isinstance(value, str):
        value = {"version": value}
    if not isinstance(value, dict):
        raise fail(origin, f"{key}: a list of constraints has no single PEP 508 form")
    extras = value.get("extras", [])
    if not isinstance(extras, list) or not all(isinstance(e, str) for e in extras):
        raise fail(origin, f"{key}: extras must be a list of strings")
    extras_text = f"[{','.join(extras)}]" if extras else ""
    url = _poetry_url(value)
    version = poetry_constraint(_string(value.get("version", "*"), origin, key), origin)
    markers = [f"({value['markers']})"] if value.get("markers") else []
    if value.get("python"):
        python = poetry_constraint(_string(value["python"], origin, key), origin)
        markers += [
            f'python_full_version {spec.operator} "{spec.version}"'
            for spec in sorted(SpecifierSet(python), key=str)
        ]
    text = f"{key}{extras_text} @ {url}" if url else f"{key}{extras_text}{version}"
    if markers:
        text += (" " if url else "") + "; " + " and ".join(markers)
    return package_from_pep508(text, origin)


def _poetry_url(value: dict[str, Any]) -> str | None:
    if "git" in value:
        ref = value.get("rev") or value.get("tag") or value.get("branch")
        return f"git+{value['git']}" + (f"@{ref}" if ref else "")
    for key in ("url", "path"):
        if key in value:
            return str(value[key])
    return None


def poetry_constraint(text: str, where: Origin | str) -> str:
    """A Poetry version constraint as a PEP 440 specifier set (see the module docstring)."""
    text = _OP_SPACE_RE.sub(r"\1", text.strip())
    if "|" in text:
        raise fail(where, f"version constraint {text!r}: '||' has no PEP 440 form")
    clauses: list[str] = []
    for clause in re.split(r"[\s,]+", text):
        if clause in ("", "*"):
            continue
        if clause.startswith("^"):
            clauses += _caret(clause[1:], where)
        elif clause.startswith("~") and not clause.startswith("~="):
            clauses += _tilde(clause[1:], where)
        elif clause[0].isdigit():
            clauses.append(f"=={clause}")
        elif clause.startswith("=") and not clause.startswith("=="):
            clauses.append(f"={clause}")
        else:
            clauses.append(clause)
    return specifier_text(",".join(clauses), where, what="version constraint")


def _release(version: str, where: Origin | str) -> list[int]:
    try:
        return list(Version(version).release)
    except InvalidVersion:
        raise fail(where, f"invalid version {version!r}") from None


def _caret(version: str, where: Origin | str) -> list[str]:
    parts = _release(version, where)
    # The first non-zero part may not grow; with all zeros, the last given part may not.
    index = next((i for i, part in enumerate(parts) if part != 0), len(parts) - 1)
    upper = [*parts[:index], parts[index] + 1]
    return [f">={version}", "<" + ".".join(map(str, upper))]


def _tilde(version: str, where: Origin | str) -> list[str]:
    parts = _release(version, where)
    upper = [parts[0] + 1] if len(parts) == 1 else [parts[0], parts[1] + 1]
    return [f">={version}", "<" + ".".join(map(str, upper))]


def _string(value: Any, where: Origin, what: str) -> str:
    if not isinstance(value, str):
        raise fail(where, f"{what} must be a string")
    return value


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The table at ``keys``, or an empty one where any level is missing or not a table."""
    for key in keys:
        value = data.get(key)
        if not isinstance(value, dict):
            return {}
        data = value
    return data


def _origin(name: str, index: int | None) -> Origin:
    return Origin(name, index + 1 if index is not None else None)


def _key_parts(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))
